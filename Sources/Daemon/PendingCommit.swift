import Conntrack
import Timekeeping

/// Flows a commit could not write because the conntrack table was full (ENOMEM), or whose
/// batch the netlink socket failed on (unconfirmed), written again as the kernel frees
/// space or the socket recovers. The policy is service first: a new master raises its
/// addresses with what fit, and the rest follow as entries expire or are deleted, each
/// for at most its own timeout (past that it would have expired in the kernel anyway).
///
/// A pure value: fed the refused flows and the time, it says when to try again and with
/// which flows; the owner writes them and reports what the kernel still refused.
struct PendingCommit {
    struct Waiting {
        var flow: Flow
        /// When the flow would have expired had it fit at the commit.
        var expires: Instant
    }

    private(set) var waiting: [Waiting] = []
    /// When the next attempt is due; nil when nothing waits.
    private(set) var nextAttempt: Instant?
    private var backoff = Self.firstRetry
    /// Flows written on a later attempt, and flows that expired before space freed.
    private(set) var committedLater = 0
    private(set) var expired = 0

    static let firstRetry = Duration.seconds(1)
    static let longestRetry = Duration.seconds(16)

    var count: Int { waiting.count }

    /// A commit left `flows` out for want of space: they replace whatever an earlier
    /// commit left (the external cache they came from is the newer truth).
    mutating func refused(_ flows: [Flow], now: Instant) {
        waiting = flows.map { Waiting(flow: $0, expires: now + .seconds(Int64($0.timeout ?? 180))) }
        backoff = Self.firstRetry
        nextAttempt = waiting.isEmpty ? nil : now + backoff
    }

    /// The flows to write now, if an attempt is due; drops (and counts) the expired first.
    mutating func due(now: Instant) -> [Flow]? {
        guard let at = nextAttempt, now >= at else { return nil }
        let before = waiting.count
        waiting.removeAll { $0.expires <= now }
        expired += before - waiting.count
        if waiting.isEmpty {
            nextAttempt = nil
            return nil
        }
        return waiting.map(\.flow)
    }

    /// The attempt left the flows at `stillRefused` out for want of space, and the kernel
    /// refused `dropped` others for other reasons (they are not tried again); the rest are
    /// in. Progress keeps the pace; a table still full waits longer, up to 16 s.
    mutating func attempted(stillRefused: Set<Int>, dropped: Int = 0, now: Instant) {
        let progress = stillRefused.count < waiting.count
        committedLater += waiting.count - stillRefused.count - dropped
        waiting = waiting.indices.filter(stillRefused.contains).map { waiting[$0] }
        backoff = progress ? Self.firstRetry : min(backoff * 2, Self.longestRetry)
        nextAttempt = waiting.isEmpty ? nil : now + backoff
    }

    /// This node no longer needs them (it flushed its caches, or is purging its table as
    /// a backup).
    mutating func cancel() {
        waiting.removeAll()
        nextAttempt = nil
    }
}
