import StateSync
import Timekeeping

/// The sync mode's engine. Each engine is held as its concrete type: through
/// `any SyncEngine` every per-flow call ran the unspecialized generic code, and its
/// metadata look-ups and value-witness copies were about a sixth of the sender's CPU.
/// Each sits in a `Cell`, so a per-message call changes it in place: moving an engine out
/// of an enum payload and back costs a copy and a retain and release per reference it
/// holds, on every message (measured: +12–18% receiver CPU per flow).
/// FTFW keeps its objects' places in the internal cache (`places`); the other modes keep
/// what they need themselves.
enum ModeEngine {
    case ftfw(Cell<FTFWEngine<SyncObjectKey>>)
    case notrack(Cell<NotrackEngine<SyncObjectKey>>)
    case alarm(Cell<AlarmEngine<SyncObjectKey>>)

    /// Where an engine lives, changed in place.
    final class Cell<Engine> {
        var engine: Engine
        init(_ engine: Engine) { self.engine = engine }
    }

    static func ftfw(_ e: FTFWEngine<SyncObjectKey>) -> ModeEngine { .ftfw(Cell(e)) }
    static func notrack(_ e: NotrackEngine<SyncObjectKey>) -> ModeEngine { .notrack(Cell(e)) }
    static func alarm(_ e: AlarmEngine<SyncObjectKey>) -> ModeEngine { .alarm(Cell(e)) }

    var isFTFW: Bool { if case .ftfw = self { true } else { false } }

    /// FTFW's engine, for its resend-queue figures; nil in the other modes.
    var ftfw: FTFWEngine<SyncObjectKey>? { if case .ftfw(let c) = self { c.engine } else { nil } }
    /// FTFW's unacknowledged limit (read each turn: only this field, not the engine).
    var sendWindow: SendWindow? { if case .ftfw(let c) = self { c.engine.sendWindow } else { nil } }

    var nextDeadline: Instant {
        switch self {
        case .ftfw(let c): c.engine.nextDeadline
        case .notrack(let c): c.engine.nextDeadline
        case .alarm(let c): c.engine.nextDeadline
        }
    }

    var tracker: SequenceTracker {
        switch self {
        case .ftfw(let c): c.engine.tracker
        case .notrack(let c): c.engine.tracker
        case .alarm(let c): c.engine.tracker
        }
    }

    var retransmissions: Int {
        switch self {
        case .ftfw(let c): c.engine.retransmissions
        case .notrack(let c): c.engine.retransmissions
        case .alarm(let c): c.engine.retransmissions
        }
    }

    var lastResyncSequence: UInt32? {
        switch self {
        case .ftfw(let c): c.engine.lastResyncSequence
        case .notrack(let c): c.engine.lastResyncSequence
        case .alarm(let c): c.engine.lastResyncSequence
        }
    }

    func enqueue(_ key: SyncObjectKey, places: inout InternalCache) {
        switch self {
        case .ftfw(let c): c.engine.enqueue(key, places: &places)
        case .notrack(let c): c.engine.enqueue(key)
        case .alarm(let c): c.engine.enqueue(key)
        }
    }

    /// `enqueue` for an object the caller has just found at `slot`.
    func enqueue(_ key: SyncObjectKey, at slot: InternalCache.Slot, places: inout InternalCache) {
        switch self {
        case .ftfw(let c): c.engine.enqueue(key, at: slot, places: &places)
        case .notrack(let c): c.engine.enqueue(key)
        case .alarm(let c): c.engine.enqueue(key)
        }
    }

    func requestResync() {
        switch self {
        case .ftfw(let c): c.engine.requestResync()
        case .notrack(let c): c.engine.requestResync()
        case .alarm(let c): c.engine.requestResync()
        }
    }

    /// The peer asked for our table, which the owner then queues (`BulkWalk`) and ends
    /// with `markEndOfTable`, framed so the peer can tell when it has all of it however
    /// busy we are: FTFW acknowledges the request at once and ends the answer with an
    /// ALIVE, NOTRACK ends it with two (`ResyncProgress` reads them on the other side).
    /// `heldRequest`: the sequence number of a request the mode never received (the jump
    /// guard held it); FTFW acknowledges it last, right before the table: the peer counts
    /// its request as taken at that ACK and the next tick as the table's end, so no other
    /// ACK may come between them.
    func answerResync(heldRequest: UInt32? = nil) {
        switch self {
        case .ftfw(let c):
            c.engine.acknowledgeReceived()
            if let s = heldRequest { c.engine.acknowledge(ClosedRangeOfSequences(from: s, to: s)) }
        case .notrack, .alarm: break
        }
    }

    /// Behind a resync answer's last object.
    func markEndOfTable() {
        switch self {
        case .ftfw(let c): c.engine.markEndOfTable()
        case .notrack(let c): c.engine.markEndOfTable()
        case .alarm: break
        }
    }

    /// A resync answer is being queued over several turns (`heldRequest` as for
    /// `answerResync`): nothing the peer could take for its end may go out meanwhile.
    func answeringTable(heldRequest: UInt32?) {
        switch self {
        case .ftfw(let c): c.engine.answering(request: heldRequest ?? c.engine.resyncRequestReceived)
        case .notrack(let c): c.engine.answeringTable = true
        case .alarm: break
        }
    }

    /// The answer's end is queued.
    func answeredTable() {
        switch self {
        case .ftfw(let c): c.engine.answered()
        case .notrack(let c): c.engine.answeringTable = false
        case .alarm: break
        }
    }

    /// Objects queued and not yet sent (a bulk send's next slice waits for none).
    var transmitBacklog: Int {
        switch self {
        case .ftfw(let c): c.engine.transmitQueueCount
        case .notrack(let c): c.engine.queuedCount
        case .alarm: 0
        }
    }

    /// FTFW: NACK these sequence numbers of the peer's again (the other modes have no NACK).
    func requestRetransmission(_ range: ClosedRangeOfSequences) {
        if case .ftfw(let c) = self { c.engine.requestRetransmission(range) }
    }

    /// FTFW: whether a flow queued now would be followed for the replication lag.
    func wantsLagSample(now: Instant) -> Bool {
        if case .ftfw(let c) = self { c.engine.lagProbe.wantsSample(now: now) } else { false }
    }

    /// FTFW: follow this queued object until the peer acknowledges it.
    func followForLag(_ key: SyncObjectKey, now: Instant) {
        if case .ftfw(let c) = self { c.engine.lagProbe.follow(key, now: now) }
    }

    /// FTFW: the followed object's lag, if the peer's ACK of `range` covers it.
    func lagAcknowledged(_ range: ClosedRangeOfSequences, now: Instant) -> Duration? {
        if case .ftfw(let c) = self { c.engine.lagProbe.acknowledged(range, now: now) } else { nil }
    }

    /// Lag probes given up (no ACK within their patience).
    var lagProbesAbandoned: Int {
        if case .ftfw(let c) = self { c.engine.lagProbe.abandoned } else { 0 }
    }

    func fire(now: Instant) {
        switch self {
        case .ftfw(let c): c.engine.fire(now: now)
        case .notrack(let c): c.engine.fire(now: now)
        case .alarm(let c): c.engine.fire(now: now)
        }
    }

    /// FTFW's transmit run: state messages written straight from the cache (`render`,
    /// `emitObject`), control messages through `emitControl`; see `FTFWEngine.transmit`.
    func transmitFTFW<Payload>(now: Instant, limit: Int, places: inout InternalCache,
                               render: (SyncObjectKey, InternalCache.Slot, InternalCache) -> (SyncMessageType, Payload)?,
                               emitObject: (SyncMessageType, SyncFlags, UInt32, Payload) -> Void,
                               emitControl: (ControlMessage) -> Void) {
        guard case .ftfw(let c) = self else { return }
        c.engine.transmit(now: now, limit: limit, places: &places, render: render, emitObject: emitObject, emitControl: emitControl)
    }

    /// NOTRACK's and ALARM's transmit run, whole messages rendered from the cache, which
    /// these engines do not borrow (so `render` may read it).
    func transmitOther(now: Instant, render: (SyncObjectKey) -> (SyncMessageType, SyncMessage.Body)?, emit: (SyncMessage) -> Void) {
        switch self {
        case .ftfw: return
        case .notrack(let c): c.engine.transmit(now: now, render: render, emit: emit)
        case .alarm(let c): c.engine.transmit(now: now, render: render, emit: emit)
        }
    }

    /// Whether to apply `m`, the other events appended to `events` (see FTFWEngine).
    func receive(_ m: SyncMessage, places: inout InternalCache, events: inout [SyncEngineEvent]) -> Bool {
        func split(_ produced: [SyncEngineEvent]) -> Bool {
            var apply = false
            for e in produced {
                if case .apply = e { apply = true } else { events.append(e) }
            }
            return apply
        }
        switch self {
        case .ftfw(let c): return c.engine.receive(m, places: &places, events: &events)
        case .notrack(let c): return split(c.engine.receive(m))
        case .alarm(let c): return split(c.engine.receive(m))
        }
    }

    /// FTFW's `receiveData`: whether to apply a state message known by its header. The
    /// other modes never take this path (their messages go through `receive`).
    func receiveData(flags: SyncFlags, sequence: UInt32, places: inout InternalCache, events: inout [SyncEngineEvent]) -> Bool {
        guard case .ftfw(let c) = self else { return false }
        return c.engine.receiveData(flags: flags, sequence: sequence, places: &places, events: &events)
    }

    func takeReleased(places: InternalCache) -> [SyncObjectKey] {
        switch self {
        case .ftfw(let c): c.engine.takeReleased(places: places)
        case .notrack(let c): c.engine.takeReleased()
        case .alarm(let c): c.engine.takeReleased()
        }
    }

    func discardReleased() {
        switch self {
        case .ftfw(let c): c.engine.discardReleased()
        case .notrack(let c): c.engine.discardReleased()
        case .alarm(let c): c.engine.discardReleased()
        }
    }
}
