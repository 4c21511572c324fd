#if canImport(Glibc)
import Glibc
#endif

/// The per-instance counters keepalived keeps outside its receive checks (spec §3.8);
/// they survive reloads and state changes.
struct InstanceStatistics {
    var sent = 0
    var becameMaster = 0
    var releasedMaster = 0
    var priorityZeroSent = 0

    /// Seconds since the epoch with microseconds, as keepalived prints transitions.
    static func wallClock() -> Double {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return Double(tv.tv_sec) + Double(tv.tv_usec) / 1e6
    }
}
