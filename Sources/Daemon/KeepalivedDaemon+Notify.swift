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
        if let s = specific { spawn(ScriptCommand.argv(s), as: n.runAs[slot(state)]) }
        if let g = n.generic {
            spawn(ScriptCommand.argv(g) + ["INSTANCE", i.config.name, state.rawValue, String(i.machine.parameters.priority)], as: n.runAs[.generic])
        }
    }

    /// keepalived's event for a MASTER that hears a lower priority (send_event_notify): the
    /// notify_master_rx_lower_pri command, without arguments, as its user; and the FIFO line,
    /// whether or not a command is configured. The generic `notify` is not run for it.
    func notifyLowerPriorityHeard(_ i: Instance) {
        let n = i.config.notify
        if let s = n.masterRxLowerPriority { spawn(ScriptCommand.argv(s), as: n.runAs[.masterRxLowerPriority]) }
        notifyFifo("INSTANCE", name: i.config.name, state: "MASTER_RX_LOWER_PRI", priority: Int(i.machine.parameters.priority))
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
        let slot: KeepalivedConfiguration.Notify.Slot? = switch state {
        case "MASTER": .master
        case "BACKUP": .backup
        case "FAULT": .fault
        case "STOP": .stop
        default: nil
        }
        if let s = specific { spawn(ScriptCommand.argv(s), as: slot.flatMap { g.notify.runAs[$0] }) }
        if let n = g.notify.generic { spawn(ScriptCommand.argv(n) + ["GROUP", g.name, state, "0"], as: g.notify.runAs[.generic]) }
    }

    /// The notify command an instance state runs.
    func slot(_ state: InstanceMachine.State) -> KeepalivedConfiguration.Notify.Slot {
        switch state {
        case .master: .master
        case .backup: .backup
        case .fault: .fault
        case .stopped: .stop
        default: .generic
        }
    }

    func notifyFifo(_ kind: String, name: String, state: String, priority: Int) {
        guard let fifo else { return }
        if !fifo.write(kind, name: name, state: state, priority: priority), fifo.dropped == 1 {
            log("notify_fifo \(fifo.path) is full: events are being lost")
        }
    }

    @discardableResult
    func spawn(_ argv: [String], as user: ScriptUser?) -> pid_t? {
        guard let program = argv.first else { return nil }
        if programs.handledInternally?(program) == true {
            if programs.skipped.insert(program).inserted {
                log("notify script \(program) not run: its conntrackd steps are done in-process, in order (--run-sync-scripts runs it anyway)")
            }
            return nil
        }
        // Its own process group, as keepalived does, so a script's signals stay its own;
        // bare names are looked up in PATH.
        switch ScriptLaunch.start(argv, search: true, as: user) {
        case .success(let pid):
            programs.children.append(pid)
            return pid
        case .failure(let f):
            log("cannot run notify script \(program): \(f)")
            return nil
        }
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
