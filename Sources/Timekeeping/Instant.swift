#if canImport(Glibc)
import Glibc
#endif

/// A point on CLOCK_MONOTONIC: the one time type of every loop and engine. Loops read the
/// clock (`Instant.now()`) and hand the instant to their engines, which never read a clock
/// themselves, so tests drive them with instants they make up. Spans are the standard
/// library's `Duration`.
///
/// Nanoseconds in a `UInt64` rather than `Duration`'s 128 bits: deadlines are compared on
/// every loop turn and stored per timer, and a machine word keeps both cheap.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since an arbitrary start (boot, for the real clock).
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The clock's origin; tests start their virtual clocks here or a little after.
    public static let zero = Instant(nanoseconds: 0)
    /// Later than any deadline that will ever be due: "no deadline".
    public static let never = Instant(nanoseconds: .max)

    public static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    /// Whole microseconds: keepalived's unit, which the VRRP machine keeps for its arithmetic.
    public var microseconds: UInt64 { nanoseconds / 1_000 }

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Saturates at `never` (a deadline that far out is no deadline) and at `zero`.
    public static func + (t: Instant, d: Duration) -> Instant {
        let n = d.nanosecondCount
        if n >= 0 {
            let (sum, overflow) = t.nanoseconds.addingReportingOverflow(UInt64(n))
            return overflow ? .never : Instant(nanoseconds: sum)
        }
        let back = n.magnitude
        return t.nanoseconds > back ? Instant(nanoseconds: t.nanoseconds - back) : .zero
    }

    public static func - (t: Instant, d: Duration) -> Instant { t + (.zero - d) }

    public static func += (t: inout Instant, d: Duration) { t = t + d }

    /// How long after `b` this is (negative when earlier).
    public static func - (a: Instant, b: Instant) -> Duration {
        a >= b ? .nanoseconds(Int64(clamping: a.nanoseconds - b.nanoseconds))
               : .zero - .nanoseconds(Int64(clamping: b.nanoseconds - a.nanoseconds))
    }

    /// Time from `self` until `deadline`, zero when it has passed.
    public func remaining(until deadline: Instant) -> Duration {
        deadline > self ? deadline - self : .zero
    }

    public var description: String { self == .never ? "never" : "\(Double(nanoseconds) / 1e9) s" }
}

extension Duration {
    /// The span in whole nanoseconds, clamped to Int64's range.
    public var nanosecondCount: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow || overflow2 { return seconds < 0 ? .min : .max }
        return total
    }

    /// Whole seconds, truncated (how conntrackd and keepalived print ages).
    public var wholeSeconds: Int64 { components.seconds }

    /// Whole microseconds (keepalived's unit).
    public var microsecondCount: Int64 { nanosecondCount / 1_000 }

    /// Whole milliseconds, rounded up: a poll(2) timeout that wakes no earlier than the deadline.
    public var millisecondsRoundedUp: Int64 {
        let n = nanosecondCount
        return n <= 0 ? 0 : (n - 1) / 1_000_000 + 1
    }

    /// Seconds as a floating-point number, for display and logs.
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
