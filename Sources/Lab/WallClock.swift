#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock seconds since the epoch. The lab compares its own observations with the
/// daemons' log timestamps, so it cannot use a monotonic clock.
enum WallClock {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&ts, &remaining) != 0 && errno == EINTR { ts = remaining }
    }
}

/// Something to stop for: SIGINT/SIGTERM in the command line tool. Every wait in the lab
/// checks it so that Ctrl-C always reaches the teardown.
public struct Interruption: Sendable {
    let check: @Sendable () -> Bool
    public init(_ check: @escaping @Sendable () -> Bool) { self.check = check }
    public static let never = Interruption { false }
    var requested: Bool { check() }
}

/// Polls `condition` every `step` seconds until it holds, `seconds` pass, or the user
/// interrupts. Returns whether it held.
func waitUntil(_ seconds: Double, step: Double = 0.05, interruption: Interruption, _ condition: () throws(LabError) -> Bool) throws(LabError) -> Bool {
    let deadline = WallClock.now() + seconds
    while true {
        if try condition() { return true }
        if interruption.requested { throw LabError.interrupted }
        if WallClock.now() >= deadline { return false }
        WallClock.sleep(step)
    }
}
