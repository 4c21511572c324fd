import Timekeeping

/// A vrrp_track_process's verdict (keepalived 2.2.7, track_process.c): the quorum holds
/// while quorum ≤ matching processes ≤ quorum_max. A gained quorum counts only after
/// fork_delay and a lost one after terminate_delay, each still true at the end of its
/// delay; the first count, at start, counts at once.
public struct ProcessQuorum: Sendable {
    public let quorum: Int
    public let quorumMax: Int
    public let forkDelay: Duration
    public let terminateDelay: Duration
    /// nil until the first count.
    public private(set) var haveQuorum: Bool?
    /// A change waiting for its delay: what it would be, and when it counts.
    public private(set) var pending: (quorum: Bool, at: Instant)?

    public init(quorum: Int, quorumMax: Int, forkDelay: Duration = .zero, terminateDelay: Duration = .zero) {
        self.quorum = quorum
        self.quorumMax = quorumMax
        self.forkDelay = forkDelay
        self.terminateDelay = terminateDelay
    }

    /// Takes a count of matching processes; returns true when `haveQuorum` changed.
    public mutating func observe(count: Int, now: Instant) -> Bool {
        let holds = count >= quorum && count <= quorumMax
        guard let current = haveQuorum else {
            haveQuorum = holds
            return true
        }
        if holds == current {
            pending = nil
            return false
        }
        let delay = holds ? forkDelay : terminateDelay
        if delay == .zero {
            haveQuorum = holds
            pending = nil
            return true
        }
        if pending?.quorum != holds { pending = (holds, now + delay) }
        guard let p = pending, now >= p.at else { return false }
        haveQuorum = holds
        pending = nil
        return true
    }

    public var nextDeadline: Instant? { pending?.at }
}
