import StateSync

/// The sync mode's engine for the daemon. FTFW, the default and the mode that carries
/// bulk sends, is held as its concrete type: through `any SyncEngine` every per-flow call
/// ran the unspecialized generic code, and its metadata look-ups and value-witness
/// copies were about a sixth of the sender's CPU.
struct ModeEngine {
    private(set) var ftfw: FTFWEngine<SyncObjectKey>?
    private var other: (any SyncEngine<SyncObjectKey>)?

    init(ftfw: FTFWEngine<SyncObjectKey>) { self.ftfw = ftfw }
    init(_ other: any SyncEngine<SyncObjectKey>) { self.other = other }

    var nextDeadline: UInt64 { ftfw?.nextDeadline ?? other!.nextDeadline }
    var tracker: SequenceTracker { ftfw?.tracker ?? other!.tracker }
    var retransmissions: Int { ftfw?.retransmissions ?? other!.retransmissions }
    var lastResyncSequence: UInt32? { ftfw != nil ? ftfw!.lastResyncSequence : other!.lastResyncSequence }

    mutating func enqueue(_ key: SyncObjectKey) {
        if ftfw != nil { ftfw!.enqueue(key) } else { other!.enqueue(key) }
    }

    mutating func requestResync() {
        if ftfw != nil { ftfw!.requestResync() } else { other!.requestResync() }
    }

    /// `limit` bounds the objects FTFW sends in this run; the other modes send everything.
    mutating func transmit(now: UInt64, limit: Int = .max, render: (SyncObjectKey) -> (SyncMessageType, SyncMessage.Body)?, emit: (SyncMessage) -> Void) {
        if ftfw != nil { ftfw!.transmit(now: now, limit: limit, render: render, emit: emit) } else { other!.transmit(now: now, render: render, emit: emit) }
    }

    mutating func fire(now: UInt64) {
        if ftfw != nil { ftfw!.fire(now: now) } else { other!.fire(now: now) }
    }

    /// Whether to apply `m`, the other events appended to `events` (see FTFWEngine).
    mutating func receive(_ m: SyncMessage, events: inout [SyncEngineEvent]) -> Bool {
        if ftfw != nil { return ftfw!.receive(m, events: &events) }
        var apply = false
        for e in other!.receive(m) {
            if case .apply = e { apply = true } else { events.append(e) }
        }
        return apply
    }

    mutating func takeReleased() -> [SyncObjectKey] {
        ftfw != nil ? ftfw!.takeReleased() : other!.takeReleased()
    }

    mutating func discardReleased() {
        if ftfw != nil { ftfw!.discardReleased() } else { other!.discardReleased() }
    }
}
