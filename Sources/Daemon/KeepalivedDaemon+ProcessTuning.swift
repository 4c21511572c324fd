#if canImport(Glibc)
import Glibc
#endif
import CLinux
import ConfigParsing

/// global_defs' settings for keepalived's VRRP process, applied at start and again at a
/// reload, as keepalived's VRRP child applies them (lib/process.c): vrrp_priority's nice
/// value, vrrp_no_swap's mlockall, vrrp_cpu_affinity's CPUs. Tandem's VRRP process is this one, its loop the
/// thread that calls `start()`: the nice value and the CPUs are that thread's (Linux keeps
/// both per thread), the memory lock the whole process's.
extension KeepalivedDaemon {
    func tuneProcess() {
        if let nice = configuration.processPriority {
            if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) != 0 {
                actionFailed("process priority", "cannot set the VRRP thread's nice value to \(nice): \(String(cString: strerror(errno)))")
            }
        }
        if configuration.lockedInMemory {
            // MCL_ONFAULT: pages are locked as they are touched, not all at once.
            if mlockall(Int32(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 {
                actionFailed("memory lock", "Unable to lock process in memory - \(String(cString: strerror(errno)))")
            }
        }
        if !configuration.cpuAffinity.isEmpty {
            let cpus = configuration.cpuAffinity.map { Int32($0) }
            if clinux_pin_thread(cpus, Int32(cpus.count)) != 0 {
                actionFailed("cpu affinity", "unable to set cpu affinity to vrrp process (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// A reload: keepalived first undoes the nice value and the memory lock (its
    /// reset_process_priorities) and then applies the new file's settings; CPUs once
    /// named stay until another list replaces them.
    func retuneProcess(from old: KeepalivedConfiguration) {
        if old.processPriority != nil && configuration.processPriority == nil {
            if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 0) != 0 {
                actionFailed("process priority", "Unable to reset process priority - \(String(cString: strerror(errno)))")
            }
        }
        if old.lockedInMemory && !configuration.lockedInMemory { munlockall() }
        tuneProcess()
    }
}
