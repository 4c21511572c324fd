#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing

/// conntrackd.conf's `Scheduler { Type … Priority … }`, applied as conntrackd applies it
/// at start: `sched_setscheduler(0, …)` on the thread that runs the daemon's loop (on
/// Linux the call is per thread; the loop is one thread). Without a Scheduler block
/// conntrackd 1.4.7 puts itself in SCHED_RR at the highest priority; Tandem keeps the
/// system's scheduler then, so a busy loop can never starve the firewall's own softirq
/// work unless the operator asked for it (docs/compatibility.md).
public enum RealtimeScheduler {
    /// nil on success; otherwise the line to log (conntrackd goes on with the default
    /// scheduler after a warning, and so does Tandem).
    public static func apply(_ s: ConntrackdConfiguration.Scheduler) -> String? {
        var parameters = sched_param()
        parameters.sched_priority = Int32(s.priority)
        let policy = s.policy == .roundRobin ? Int32(SCHED_RR) : Int32(SCHED_FIFO)
        guard sched_setscheduler(0, policy, &parameters) == 0 else {
            return "scheduler configuration failed: \(String(cString: strerror(errno))). Continuing with system default scheduler."
        }
        return nil
    }

    /// The calling thread's policy and priority, as `chrt -p` shows them.
    public static func current() -> (policy: Int32, priority: Int32) {
        var parameters = sched_param()
        _ = sched_getparam(0, &parameters)
        return (sched_getscheduler(0), parameters.sched_priority)
    }

    public static func describe(_ s: ConntrackdConfiguration.Scheduler) -> String {
        "scheduler: SCHED_\(s.policy.rawValue) priority \(s.priority)"
    }
}
