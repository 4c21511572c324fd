/// Whether the sync peer is being heard: an unreachable or stopped peer is reported once
/// when it falls silent and once when it is heard again, not on every failed send.
public struct PeerLiveness: Hashable, Sendable {
    public enum Change: Hashable, Sendable { case fellSilent(for: UInt64), heardAgain(after: UInt64) }

    /// Silence longer than this is reported (nanoseconds); the peer sends at least one
    /// ALIVE a second when it is up.
    public let threshold: UInt64
    public private(set) var lastHeard: UInt64
    public private(set) var silent = false

    public init(threshold: UInt64 = 5_000_000_000, now: UInt64) {
        self.threshold = threshold
        lastHeard = now
    }

    public var deadline: UInt64 { silent ? .max : lastHeard + threshold }

    public mutating func heard(now: UInt64) -> Change? {
        defer { lastHeard = now }
        guard silent else { return nil }
        silent = false
        return .heardAgain(after: now - lastHeard)
    }

    public mutating func check(now: UInt64) -> Change? {
        guard !silent, now >= lastHeard + threshold else { return nil }
        silent = true
        return .fellSilent(for: now - lastHeard)
    }
}
