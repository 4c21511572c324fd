import Timekeeping

/// Whether the sync peer is being heard: an unreachable or stopped peer is reported once
/// when it falls silent and once when it is heard again, not on every failed send.
public struct PeerLiveness: Hashable, Sendable {
    public enum Change: Hashable, Sendable { case fellSilent(for: Duration), heardAgain(after: Duration) }

    /// Silence longer than this is reported; the peer sends at least one
    /// ALIVE a second when it is up.
    public let threshold: Duration
    public private(set) var lastHeard: Instant
    public private(set) var silent = false
    /// `lastHeard` starts at start-up: this tells a real message from that.
    public private(set) var everHeard = false

    public init(threshold: Duration = .seconds(5), now: Instant) {
        self.threshold = threshold
        lastHeard = now
    }

    public var deadline: Instant { silent ? .never : lastHeard + threshold }

    public mutating func heard(now: Instant) -> Change? {
        defer { lastHeard = now; everHeard = true }
        guard silent else { return nil }
        silent = false
        return .heardAgain(after: now - lastHeard)
    }

    public mutating func check(now: Instant) -> Change? {
        guard !silent, now >= lastHeard + threshold else { return nil }
        silent = true
        return .fellSilent(for: now - lastHeard)
    }
}
