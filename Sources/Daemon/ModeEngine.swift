import StateSync

/// The sync mode's engine for the daemon. FTFW, the default and the mode that carries
/// bulk sends, is held as its concrete type: through `any SyncEngine` every per-flow call
/// ran the unspecialized generic code, and its metadata look-ups and value-witness
/// copies were about a sixth of the sender's CPU. FTFW keeps its objects' places in the
/// internal cache (`places`); the other modes keep what they need themselves.
struct ModeEngine {
    private(set) var ftfw: FTFWEngine<SyncObjectKey>?
    private var other: (any SyncEngine<SyncObjectKey>)?

    init(ftfw: FTFWEngine<SyncObjectKey>) { self.ftfw = ftfw }
    init(_ other: any SyncEngine<SyncObjectKey>) { self.other = other }

    var nextDeadline: UInt64 { ftfw?.nextDeadline ?? other!.nextDeadline }
    var tracker: SequenceTracker { ftfw?.tracker ?? other!.tracker }
    var retransmissions: Int { ftfw?.retransmissions ?? other!.retransmissions }
    var lastResyncSequence: UInt32? { ftfw != nil ? ftfw!.lastResyncSequence : other!.lastResyncSequence }

    mutating func enqueue(_ key: SyncObjectKey, places: inout InternalCache) {
        if ftfw != nil { ftfw!.enqueue(key, places: &places) } else { other!.enqueue(key) }
    }

    /// `enqueue` for an object the caller has just found at `slot`.
    mutating func enqueue(_ key: SyncObjectKey, at slot: InternalCache.Slot, places: inout InternalCache) {
        if ftfw != nil { ftfw!.enqueue(key, at: slot, places: &places) } else { other!.enqueue(key) }
    }

    mutating func requestResync() {
        if ftfw != nil { ftfw!.requestResync() } else { other!.requestResync() }
    }

    /// FTFW: NACK these sequence numbers of the peer's again.
    mutating func requestRetransmission(_ range: ClosedRangeOfSequences) {
        ftfw?.requestRetransmission(range)
    }

    /// The other modes' transmit run (FTFW's is `ftfw.transmit(…places:…)`).
    mutating func transmitOther(now: UInt64, render: (SyncObjectKey) -> (SyncMessageType, SyncMessage.Body)?, emit: (SyncMessage) -> Void) {
        other!.transmit(now: now, render: render, emit: emit)
    }

    /// FTFW's transmit run; see `FTFWEngine.transmit(now:limit:places:render:emitObject:emitControl:)`.
    mutating func transmitFTFW<Payload>(now: UInt64, limit: Int, places: inout InternalCache,
                                        render: (SyncObjectKey, InternalCache.Slot, InternalCache) -> (SyncMessageType, Payload)?,
                                        emitObject: (SyncMessageType, SyncFlags, UInt32, Payload) -> Void,
                                        emitControl: (ControlMessage) -> Void) {
        ftfw!.transmit(now: now, limit: limit, places: &places, render: render, emitObject: emitObject, emitControl: emitControl)
    }

    mutating func fire(now: UInt64) {
        if ftfw != nil { ftfw!.fire(now: now) } else { other!.fire(now: now) }
    }

    /// Whether to apply `m`, the other events appended to `events` (see FTFWEngine).
    mutating func receive(_ m: SyncMessage, places: inout InternalCache, events: inout [SyncEngineEvent]) -> Bool {
        if ftfw != nil { return ftfw!.receive(m, places: &places, events: &events) }
        var apply = false
        for e in other!.receive(m) {
            if case .apply = e { apply = true } else { events.append(e) }
        }
        return apply
    }

    /// FTFW's `receiveData`: whether to apply a state message known by its header.
    mutating func receiveData(flags: SyncFlags, sequence: UInt32, places: inout InternalCache, events: inout [SyncEngineEvent]) -> Bool {
        ftfw!.receiveData(flags: flags, sequence: sequence, places: &places, events: &events)
    }

    mutating func takeReleased(places: InternalCache) -> [SyncObjectKey] {
        ftfw != nil ? ftfw!.takeReleased(places: places) : other!.takeReleased()
    }

    mutating func discardReleased() {
        if ftfw != nil { ftfw!.discardReleased() } else { other!.discardReleased() }
    }
}
