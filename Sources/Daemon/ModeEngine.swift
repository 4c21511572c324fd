import StateSync

/// The sync mode's engine. Each engine is held as its concrete type: through
/// `any SyncEngine` every per-flow call ran the unspecialized generic code, and its
/// metadata look-ups and value-witness copies were about a sixth of the sender's CPU.
/// FTFW keeps its objects' places in the internal cache (`places`); the other modes keep
/// what they need themselves.
enum ModeEngine {
    case ftfw(FTFWEngine<SyncObjectKey>)
    case notrack(NotrackEngine<SyncObjectKey>)
    case alarm(AlarmEngine<SyncObjectKey>)
    /// Only while an engine is taken out to be changed: the engine then has one owner, so
    /// changing it never copies its queues.
    case vacated

    /// Takes the engine out, leaving `.vacated` until the caller puts it back.
    private mutating func take() -> ModeEngine {
        let engine = self
        self = .vacated
        return engine
    }

    var isFTFW: Bool { if case .ftfw = self { true } else { false } }

    var nextDeadline: UInt64 {
        switch self {
        case .ftfw(let e): e.nextDeadline
        case .notrack(let e): e.nextDeadline
        case .alarm(let e): e.nextDeadline
        case .vacated: .max
        }
    }

    var tracker: SequenceTracker {
        switch self {
        case .ftfw(let e): e.tracker
        case .notrack(let e): e.tracker
        case .alarm(let e): e.tracker
        case .vacated: SequenceTracker()
        }
    }

    var retransmissions: Int {
        switch self {
        case .ftfw(let e): e.retransmissions
        case .notrack(let e): e.retransmissions
        case .alarm(let e): e.retransmissions
        case .vacated: 0
        }
    }

    var lastResyncSequence: UInt32? {
        switch self {
        case .ftfw(let e): e.lastResyncSequence
        case .notrack(let e): e.lastResyncSequence
        case .alarm(let e): e.lastResyncSequence
        case .vacated: nil
        }
    }

    /// FTFW's resend-queue figures for `-s rsqueue` / statistics; nil in the other modes.
    var ftfw: FTFWEngine<SyncObjectKey>? { if case .ftfw(let e) = self { e } else { nil } }

    mutating func enqueue(_ key: SyncObjectKey, places: inout InternalCache) {
        switch take() {
        case .ftfw(var e): e.enqueue(key, places: &places); self = .ftfw(e)
        case .notrack(var e): e.enqueue(key); self = .notrack(e)
        case .alarm(var e): e.enqueue(key); self = .alarm(e)
        case .vacated: break
        }
    }

    /// `enqueue` for an object the caller has just found at `slot`.
    mutating func enqueue(_ key: SyncObjectKey, at slot: InternalCache.Slot, places: inout InternalCache) {
        switch take() {
        case .ftfw(var e): e.enqueue(key, at: slot, places: &places); self = .ftfw(e)
        case .notrack(var e): e.enqueue(key); self = .notrack(e)
        case .alarm(var e): e.enqueue(key); self = .alarm(e)
        case .vacated: break
        }
    }

    mutating func requestResync() {
        switch take() {
        case .ftfw(var e): e.requestResync(); self = .ftfw(e)
        case .notrack(var e): e.requestResync(); self = .notrack(e)
        case .alarm(var e): e.requestResync(); self = .alarm(e)
        case .vacated: break
        }
    }

    /// FTFW: NACK these sequence numbers of the peer's again (the other modes have no NACK).
    mutating func requestRetransmission(_ range: ClosedRangeOfSequences) {
        guard isFTFW, case .ftfw(var e) = take() else { return }
        e.requestRetransmission(range)
        self = .ftfw(e)
    }

    mutating func fire(now: UInt64) {
        switch take() {
        case .ftfw(var e): e.fire(now: now); self = .ftfw(e)
        case .notrack(var e): e.fire(now: now); self = .notrack(e)
        case .alarm(var e): e.fire(now: now); self = .alarm(e)
        case .vacated: break
        }
    }

    /// FTFW's transmit run: state messages written straight from the cache (`render`,
    /// `emitObject`), control messages through `emitControl`; see `FTFWEngine.transmit`.
    mutating func transmitFTFW<Payload>(now: UInt64, limit: Int, places: inout InternalCache,
                                        render: (SyncObjectKey, InternalCache.Slot, InternalCache) -> (SyncMessageType, Payload)?,
                                        emitObject: (SyncMessageType, SyncFlags, UInt32, Payload) -> Void,
                                        emitControl: (ControlMessage) -> Void) {
        guard isFTFW, case .ftfw(var e) = take() else { return }
        e.transmit(now: now, limit: limit, places: &places, render: render, emitObject: emitObject, emitControl: emitControl)
        self = .ftfw(e)
    }

    /// NOTRACK's and ALARM's transmit run, whole messages rendered from the cache, which
    /// these engines do not borrow (so `render` may read it).
    mutating func transmitOther(now: UInt64, render: (SyncObjectKey) -> (SyncMessageType, SyncMessage.Body)?, emit: (SyncMessage) -> Void) {
        switch self {
        case .notrack, .alarm: break
        case .ftfw, .vacated: return
        }
        switch take() {
        case .notrack(var e): e.transmit(now: now, render: render, emit: emit); self = .notrack(e)
        case .alarm(var e): e.transmit(now: now, render: render, emit: emit); self = .alarm(e)
        case let other: self = other
        }
    }

    /// Whether to apply `m`, the other events appended to `events` (see FTFWEngine).
    mutating func receive(_ m: SyncMessage, places: inout InternalCache, events: inout [SyncEngineEvent]) -> Bool {
        func split(_ produced: [SyncEngineEvent]) -> Bool {
            var apply = false
            for e in produced {
                if case .apply = e { apply = true } else { events.append(e) }
            }
            return apply
        }
        switch take() {
        case .ftfw(var e):
            let apply = e.receive(m, places: &places, events: &events)
            self = .ftfw(e)
            return apply
        case .notrack(var e):
            let produced = e.receive(m)
            self = .notrack(e)
            return split(produced)
        case .alarm(var e):
            let produced = e.receive(m)
            self = .alarm(e)
            return split(produced)
        case .vacated:
            return false
        }
    }

    /// FTFW's `receiveData`: whether to apply a state message known by its header. The
    /// other modes never take this path (their messages go through `receive`).
    mutating func receiveData(flags: SyncFlags, sequence: UInt32, places: inout InternalCache, events: inout [SyncEngineEvent]) -> Bool {
        guard isFTFW, case .ftfw(var e) = take() else { return false }
        let apply = e.receiveData(flags: flags, sequence: sequence, places: &places, events: &events)
        self = .ftfw(e)
        return apply
    }

    mutating func takeReleased(places: InternalCache) -> [SyncObjectKey] {
        switch take() {
        case .ftfw(var e):
            let released = e.takeReleased(places: places)
            self = .ftfw(e)
            return released
        case .notrack(var e):
            let released = e.takeReleased()
            self = .notrack(e)
            return released
        case .alarm(var e):
            let released = e.takeReleased()
            self = .alarm(e)
            return released
        case .vacated:
            return []
        }
    }

    mutating func discardReleased() {
        switch take() {
        case .ftfw(var e): e.discardReleased(); self = .ftfw(e)
        case .notrack(var e): e.discardReleased(); self = .notrack(e)
        case .alarm(var e): e.discardReleased(); self = .alarm(e)
        case .vacated: break
        }
    }
}
