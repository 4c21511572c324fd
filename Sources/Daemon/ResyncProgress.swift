import Timekeeping

/// Whether the external cache holds the peer's whole table, for `tandem run`'s sync-health
/// demotion. The protocol has no end-of-resync marker, so completion is inferred from
/// ordering: the peer queues its whole table when it processes our request, and sends
/// in queue order. With FTFW, the peer's acknowledgement of our request's sequence number
/// proves it processed the request; the next idle tick it sends (ALIVE, or the ACK its
/// timer sends instead when it has something to acknowledge) was queued behind the
/// table, so the table has arrived. Without acknowledgements (NOTRACK) the second tick
/// after the request counts: the first may have been in flight when we asked. A peer that
/// replicates steady churn never idles, so Tandem, answering a request, acknowledges it at
/// once and ends the table with those ticks itself; a conntrackd peer is waited for.
public struct ResyncProgress: Hashable, Sendable {
    public enum Phase: Hashable, Sendable {
        /// Nothing was asked: the table is whatever arrived (a master, or no sync).
        case notRequested
        case waiting(since: Instant, acknowledged: Bool, ticks: Int)
        case complete(at: Instant)
    }

    public private(set) var phase: Phase = .notRequested
    /// FTFW acknowledges; NOTRACK does not.
    public let acknowledgements: Bool
    /// While waiting, the request is repeated: the first one may have been lost or sent
    /// while the peer was down.
    public let repeatInterval: Duration
    public private(set) var nextRequest: Instant?

    public init(acknowledgements: Bool = true, repeatInterval: Duration = .seconds(5)) {
        self.acknowledgements = acknowledgements
        self.repeatInterval = repeatInterval
    }

    public var isComplete: Bool {
        if case .complete = phase { return true }
        return false
    }

    public var isWaiting: Bool {
        if case .waiting = phase { return true }
        return false
    }

    /// A resync request went out at `now`. A repeat restarts the evidence: only an
    /// acknowledgement of the latest request counts.
    public mutating func requested(now: Instant) {
        if case .waiting(let since, _, _) = phase {
            phase = .waiting(since: since, acknowledged: false, ticks: 0)
        } else {
            phase = .waiting(since: now, acknowledged: false, ticks: 0)
        }
        nextRequest = now + repeatInterval
    }

    /// The peer acknowledged our latest request.
    public mutating func requestAcknowledged() {
        guard case .waiting(let since, _, let ticks) = phase else { return }
        phase = .waiting(since: since, acknowledged: true, ticks: ticks)
    }

    /// The peer sent an idle tick (ALIVE, or its timer's ACK). Returns true when this
    /// completes the resync.
    public mutating func receivedTick(now: Instant) -> Bool {
        guard case .waiting(let since, let acknowledged, let ticks) = phase else { return false }
        if acknowledgements ? acknowledged : ticks >= 1 {
            phase = .complete(at: now)
            nextRequest = nil
            return true
        }
        phase = .waiting(since: since, acknowledged: acknowledged, ticks: ticks + 1)
        return false
    }

    /// The node's own table became the reference (it is master): nothing to wait for.
    public mutating func settle(now: Instant) {
        phase = .complete(at: now)
        nextRequest = nil
    }
}
