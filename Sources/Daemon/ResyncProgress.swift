/// Whether the external cache holds the peer's whole table, for `tandem run`'s sync-health
/// demotion. The protocol has no end-of-resync marker, so completion is inferred: after
/// our request, the peer sends its table and then, idle, an ALIVE. The first ALIVE may have
/// left the peer before our request reached it, so an ALIVE counts only after state
/// arrived, or as the second one (a peer with an empty table sends no state at all).
public struct ResyncProgress: Hashable, Sendable {
    public enum Phase: Hashable, Sendable {
        /// Nothing was asked: the table is whatever arrived (a master, or no sync).
        case notRequested
        case waiting(since: UInt64, statesSeen: Int, alives: Int)
        case complete(at: UInt64)
    }

    public private(set) var phase: Phase = .notRequested
    /// While waiting, the request is repeated: the first one may have been lost or sent
    /// while the peer was down.
    public let repeatInterval: UInt64
    public private(set) var nextRequest: UInt64?

    public init(repeatInterval: UInt64 = 5_000_000_000) {
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

    /// A resync request went out at `now`.
    public mutating func requested(now: UInt64) {
        switch phase {
        case .waiting(let since, let states, let alives):
            // A repeat keeps the evidence: a bulk in progress still counts.
            phase = .waiting(since: since, statesSeen: states, alives: alives)
        default:
            phase = .waiting(since: now, statesSeen: 0, alives: 0)
        }
        nextRequest = now + repeatInterval
    }

    public mutating func receivedState() {
        guard case .waiting(let since, let states, let alives) = phase else { return }
        phase = .waiting(since: since, statesSeen: states + 1, alives: alives)
    }

    /// Returns true when this ALIVE completes the resync.
    public mutating func receivedAlive(now: UInt64) -> Bool {
        guard case .waiting(let since, let states, let alives) = phase else { return false }
        if states > 0 || alives >= 1 {
            phase = .complete(at: now)
            nextRequest = nil
            return true
        }
        phase = .waiting(since: since, statesSeen: states, alives: alives + 1)
        return false
    }

    /// The node's own table became the reference (it is master): nothing to wait for.
    public mutating func settle(now: UInt64) {
        phase = .complete(at: now)
        nextRequest = nil
    }
}
