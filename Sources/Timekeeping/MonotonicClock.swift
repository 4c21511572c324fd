#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC: the clock every loop reads and hands to its engines (which never read
/// a clock themselves, so tests can drive them with a virtual one).
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary start (boot), never going back.
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
