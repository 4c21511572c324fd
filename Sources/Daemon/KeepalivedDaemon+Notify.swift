#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import Netlink
import VRRP
import IPAddressing
import LinkIO
import Logging

/// Notify scripts and notify_fifo (spec §3.2), run without blocking the protocol.
extension KeepalivedDaemon {
    func notifyInstance(_ i: Instance, state: InstanceMachine.State) {
        let n = i.config.notify
        let specific: String? = switch state {
        case .master: n.master
        case .backup: n.backup
        case .fault: n.fault
        case .stopped: n.stop
        default: nil
        }
        notifyFifo("INSTANCE", name: i.config.name, state: state.rawValue, priority: Int(i.machine.parameters.priority))
        if let s = specific { spawn(ScriptCommand.argv(s)) }
        if let g = n.generic { spawn(ScriptCommand.argv(g) + ["INSTANCE", i.config.name, state.rawValue, String(i.machine.parameters.priority)]) }
    }

    func notifyGroup(_ g: KeepalivedConfiguration.SyncGroup, state: String) {
        let specific: String? = switch state {
        case "MASTER": g.notify.master
        case "BACKUP": g.notify.backup
        case "FAULT": g.notify.fault
        case "STOP": g.notify.stop
        default: nil
        }
        notifyFifo("GROUP", name: g.name, state: state, priority: 0)
        if let s = specific { spawn(ScriptCommand.argv(s)) }
        if let n = g.notify.generic { spawn(ScriptCommand.argv(n) + ["GROUP", g.name, state, "0"]) }
    }

    func notifyFifo(_ kind: String, name: String, state: String, priority: Int) {
        guard let fifo else { return }
        if !fifo.write(kind, name: name, state: state, priority: priority), fifo.dropped == 1 {
            log("notify_fifo \(fifo.path) is full: events are being lost")
        }
    }

    @discardableResult
    func spawn(_ argv: [String]) -> pid_t? {
        guard let program = argv.first else { return nil }
        if programs.handledInternally?(program) == true {
            if programs.skipped.insert(program).inserted {
                log("notify script \(program) not run: its conntrackd steps are done in-process, in order (--run-sync-scripts runs it anyway)")
            }
            return nil
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        // Its own process group, as keepalived does, so a script's signals stay its own;
        // bare names are looked up in PATH.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        var pid: pid_t = 0
        if posix_spawnp(&pid, program, nil, &attributes, &cArgs, environ) == 0 { programs.children.append(pid); return pid }
        log("cannot run notify script \(program)")
        return nil
    }

    func reapChildren() {
        programs.children.removeAll { pid in
            var status: Int32 = 0
            return waitpid(pid, &status, WNOHANG) == pid
        }
    }
}

/// The notify programs this daemon starts: the children still to reap, and the programs
/// a node-level owner does the work of itself (not run, and said so once).
struct NotifyPrograms {
    var children: [pid_t] = []
    var handledInternally: ((String) -> Bool)?
    var skipped: Set<String> = []
}
