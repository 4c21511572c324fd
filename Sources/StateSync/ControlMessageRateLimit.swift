import Timekeeping

/// Control messages that cost the receiver a whole table or a whole resend queue: a
/// RESYNC request (a bulk send of the internal cache), a HELLO (the resend queue sent
/// again for a restarted peer) and a wide NACK (a large part of it). Without a key anyone
/// who can reach the link can send them, so one datagram must never buy more than one
/// such piece of work per `interval`: within it, further ones are refused and counted.
/// A genuine peer needs one at a time (it restarts once, asks for the table once, and its
/// NACK is sent again from its resend queue if refused).
public struct ControlMessageRateLimit: Hashable, Sendable {
    public enum Work: Hashable, Sendable, CaseIterable {
        case bulkSend
        case resendQueueFlush
    }

    /// A NACK wider than this many sequence numbers counts as costly work; narrower ones
    /// (ordinary loss) are always served.
    public static let wideNack: UInt32 = 1_024

    public let interval: Duration
    private var lastGranted: [Work: Instant] = [:]
    public private(set) var refused = 0

    public init(interval: Duration = .seconds(1)) { self.interval = interval }

    /// Whether `work` may be done now; a grant starts the interval for that kind of work.
    public mutating func permit(_ work: Work, now: Instant) -> Bool {
        if let last = lastGranted[work], now - last < interval {
            refused += 1
            return false
        }
        lastGranted[work] = now
        return true
    }

    /// Whether a NACK of `range` is wide enough to be limited.
    public static func isWide(_ range: ClosedRangeOfSequences) -> Bool { range.to &- range.from >= wideNack }
}
