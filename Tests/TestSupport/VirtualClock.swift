import Timekeeping

/// Instants on the tests' virtual clocks, which start at zero: engines' tests count in
/// nanoseconds, the VRRP machine's in microseconds, as keepalived's logs do.
public func ns(_ nanoseconds: UInt64) -> Instant { Instant(nanoseconds: nanoseconds) }

public func us(_ microseconds: UInt64) -> Instant { Instant(nanoseconds: microseconds * 1_000) }

/// A span in microseconds.
public func µs(_ microseconds: Int64) -> Duration { .microseconds(microseconds) }
