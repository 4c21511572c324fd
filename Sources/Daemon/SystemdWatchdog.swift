import Timekeeping

/// systemd's watchdog (WatchdogSec=): the unit sets WATCHDOG_USEC, and the service must
/// send WATCHDOG=1 more often than that or be killed. Pinging at half the period leaves a
/// whole half for a loop turn that runs late. WATCHDOG_PID, when set, names the process
/// the watchdog is for: a child started with the same environment must stay quiet.
public struct SystemdWatchdog: Sendable {
    /// nil: no watchdog is asked for.
    public let interval: Duration?
    private var nextPing: Instant

    public init(usec: String?, pid: String?, ownPid: Int32, now: Instant) {
        nextPing = now
        guard let usec, let period = UInt64(usec), period > 0 else { interval = nil; return }
        if let pid, !pid.isEmpty, Int32(pid) != ownPid { interval = nil; return }
        interval = .microseconds(Int64(clamping: period / 2))
    }

    /// Whether a ping is due now; the next one is then an interval away.
    public mutating func due(now: Instant) -> Bool {
        guard let interval, now >= nextPing else { return false }
        nextPing = now + interval
        return true
    }
}
