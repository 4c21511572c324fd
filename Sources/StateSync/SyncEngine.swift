import Timekeeping

/// What the daemon needs from a sync mode: objects to send, messages received, a timer.
/// FTFW and NOTRACK implement it; each is a pure state machine driven with a clock.
public protocol SyncEngine<Key>: Sendable {
    associatedtype Key: Hashable & Sendable

    var nextDeadline: Instant { get }
    var tracker: SequenceTracker { get }
    var retransmissions: Int { get }
    mutating func enqueue(_ key: Key)
    mutating func requestResync()
    mutating func transmit(now: Instant, render: (Key) -> (SyncMessageType, SyncMessage.Body)?) -> [SyncMessage]
    /// The same, one message at a time, so a bulk send need not exist as messages at once.
    mutating func transmit(now: Instant, render: (Key) -> (SyncMessageType, SyncMessage.Body)?, emit: (SyncMessage) -> Void)
    mutating func fire(now: Instant)
    mutating func receive(_ m: SyncMessage) -> [SyncEngineEvent]
    mutating func takeReleased() -> [Key]
    /// Forgets the released objects unseen: for an owner with nothing to free.
    mutating func discardReleased()
    /// The sequence number our latest resync request went out with (FTFW), so the owner
    /// can tell when the peer has acknowledged it.
    var lastResyncSequence: UInt32? { get }
}

extension SyncEngine {
    public var lastResyncSequence: UInt32? { nil }

    public mutating func discardReleased() { _ = takeReleased() }

    public mutating func transmit(now: Instant, render: (Key) -> (SyncMessageType, SyncMessage.Body)?,
                                  emit: (SyncMessage) -> Void) {
        for m in transmit(now: now, render: render) { emit(m) }
    }
}

/// What a received message means for the owner (all modes).
public enum SyncEngineEvent: Hashable, Sendable {
    /// A state message to apply to the external cache.
    case apply(SyncMessage)
    /// The peer asked for our whole internal cache (RESYNC).
    case resyncRequested
    /// The peer (re)started: it said HELLO (FTFW only).
    case peerHello
    /// The peer had nothing to send for a while (ALIVE): whatever it was sending, such as
    /// the answer to a resync request, has been sent.
    case peerAlive
    /// The peer acknowledged these sequence numbers of ours (FTFW).
    case peerAcknowledged(ClosedRangeOfSequences)
    /// A message this mode does not accept (counted as "Malformed header").
    case malformed(SyncMessage)
    /// These sequence numbers of the peer's never arrived (FTFW has NACKed them).
    case sequenceGap(ClosedRangeOfSequences)
}

extension FTFWEngine: SyncEngine {
    public var retransmissions: Int { counters.retransmitted }
}

/// conntrackd's NOTRACK mode (spec §3.5): sequence numbers and a 1-second ALIVE, no
/// HELLO, no ACK/NACK, no resend queue. Received sequence numbers only feed statistics.
public struct NotrackEngine<Key: Hashable & Sendable>: SyncEngine {
    public let aliveInterval: Duration
    public private(set) var tracker = SequenceTracker()
    public private(set) var nextDeadline: Instant
    public private(set) var malformedHeader = 0
    public var retransmissions: Int { 0 }
    private var nextSequence: UInt32
    private var queue: [Key] = []
    private var queued: Set<Key> = []
    private var controls: [ControlMessage] = []
    /// Control messages that go out after the queued objects (the end of a resync answer).
    private var trailing: [ControlMessage] = []
    private var released: [Key] = []

    public init(firstSequence: UInt32, now: Instant, aliveInterval: Duration = .seconds(1)) {
        nextSequence = firstSequence
        self.aliveInterval = aliveInterval
        nextDeadline = now + aliveInterval
    }

    public mutating func enqueue(_ key: Key) {
        if queued.insert(key).inserted { queue.append(key) }
    }

    /// Hardening: the peer's line is expected at `s` again (see `SequenceJumpGuard`).
    public mutating func resumeLine(expecting s: UInt32) { tracker.accept(s &- 1) }

    public mutating func requestResync() {
        controls.append(ControlMessage(flags: .resync, sequence: 0, range: ClosedRangeOfSequences(from: 0, to: 0)))
    }

    public mutating func fire(now: Instant) {
        guard now >= nextDeadline else { return }
        // Two ticks between the slices of a resync answer would end it for the peer.
        if !answeringTable { controls.append(ControlMessage(flags: .alive, sequence: 0)) }
        nextDeadline = now + aliveInterval
    }

    /// Set while the owner queues a resync answer over several turns (see `FTFWEngine`):
    /// no ALIVE meanwhile, as two would end the table for the peer.
    public var answeringTable = false

    /// Objects waiting for the next transmit run.
    public var queuedCount: Int { queue.count }

    public mutating func transmit(now: Instant, render: (Key) -> (SyncMessageType, SyncMessage.Body)?) -> [SyncMessage] {
        var out: [SyncMessage] = []
        for var c in controls {
            c.sequence = takeSequence()
            out.append(.control(c))
        }
        controls.removeAll(keepingCapacity: true)
        for key in queue {
            // Sent once and forgotten: NOTRACK keeps nothing for retransmission.
            released.append(key)
            guard let (type, body) = render(key) else { continue }
            out.append(SyncMessage(type: type, sequence: takeSequence(), body: body))
        }
        queue.removeAll(keepingCapacity: true)
        queued.removeAll(keepingCapacity: true)
        for var c in trailing {
            c.sequence = takeSequence()
            out.append(.control(c))
        }
        trailing.removeAll(keepingCapacity: true)
        if !out.isEmpty { nextDeadline = now + aliveInterval }
        return out
    }

    /// Two ALIVEs behind a resync answer's table: without acknowledgements the peer counts
    /// its table as arrived at the second tick after its request (the first may have been
    /// on its way already), and a node under steady churn never idles long enough to tick.
    public mutating func markEndOfTable() {
        trailing.append(ControlMessage(flags: .alive, sequence: 0))
        trailing.append(ControlMessage(flags: .alive, sequence: 0))
    }

    public mutating func receive(_ m: SyncMessage) -> [SyncEngineEvent] {
        let event: SyncEngineEvent
        switch m.body {
        case .flow, .expectation:
            event = .apply(m)
        case .control(let c):
            if c.flags.contains(.resync) { event = .resyncRequested }
            else if c.flags.contains(.alive) && c.flags.subtracting([.alive, .hello, .helloBack]).isEmpty { return track(m, [.peerAlive]) }
            else {
                malformedHeader += 1
                return [.malformed(m)]
            }
        }
        return track(m, [event])
    }

    private mutating func track(_ m: SyncMessage, _ events: [SyncEngineEvent]) -> [SyncEngineEvent] {
        let expected = tracker.expected
        let position = tracker.classify(m.sequence)
        tracker.accept(m.sequence)
        // Nothing asks for the lost messages again here; the owner may ask for the table.
        if position == .after { return events + [.sequenceGap(ClosedRangeOfSequences(from: expected, to: m.sequence &- 1))] }
        return events
    }

    public mutating func takeReleased() -> [Key] {
        defer { released.removeAll(keepingCapacity: true) }
        return released.filter { !queued.contains($0) }
    }

    private mutating func takeSequence() -> UInt32 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }
}
