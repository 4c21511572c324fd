#if canImport(Glibc)
import Glibc
#endif

/// Starts and stops the daemons of one lab, each inside its firewall's namespace via
/// `ip netns exec` (which execs, so the recorded PID is the daemon's own).
struct DaemonSupervisor {
    let names: LabNames
    let settings: LabSettings
    let ip: String
    let interruption: Interruption

    init(names: LabNames, settings: LabSettings, interruption: Interruption) throws(LabError) {
        self.names = names
        self.settings = settings
        self.interruption = interruption
        ip = try ExternalCommand.require("ip", for: "running daemons in namespaces (iproute2)")
    }

    func flavor(_ fw: Firewall) -> FirewallFlavor { settings.stack.flavor(of: fw) }

    /// The conntrackd binary a firewall's script and control queries use.
    func conntrackdBinary(_ fw: Firewall) -> [String] {
        switch flavor(fw) {
        case .reference: return ["/usr/sbin/conntrackd"]
        case .tandemSplit: return [names.binDirectory + "/conntrackd"]
        case .tandemRun: return [settings.tandem, "conntrackd"]
        }
    }

    func keepalivedBinary(_ fw: Firewall) -> String {
        flavor(fw) == .reference ? "/usr/sbin/keepalived" : names.binDirectory + "/keepalived"
    }

    func arguments(_ role: DaemonRole, on fw: Firewall) -> [String] {
        let conntrackdConf = names.file(fw, "conntrackd.conf")
        let keepalivedConf = names.file(fw, "keepalived.conf")
        switch role {
        case .conntrackd:
            return conntrackdBinary(fw) + ["-C", conntrackdConf]
        case .keepalived:
            // As the reference lab: foreground, console logging, pid files of its own.
            return [keepalivedBinary(fw), "-n", "-l", "-G", "-D", "-f", keepalivedConf,
                    "-p", names.file(fw, "keepalived.pid"), "-r", names.file(fw, "keepalived_vrrp.pid"),
                    "-c", names.file(fw, "keepalived_checkers.pid"), "-b", names.file(fw, "keepalived_bfd.pid")]
        case .tandemRun:
            return [settings.tandem, "run", "--keepalived-config", keepalivedConf, "--conntrackd-config", conntrackdConf]
                + (settings.peerView.map { ["--peer-view", String($0)] } ?? [])
        }
    }

    func logPath(_ role: DaemonRole, on fw: Firewall) -> String { names.file(fw, role.logFile) }

    @discardableResult
    func start(_ role: DaemonRole, on fw: Firewall) throws(LabError) -> pid_t {
        if role == .conntrackd {
            // Left by a killed conntrackd; it would refuse to start.
            unlink(names.file(fw, "conntrack.lock"))
            unlink(names.file(fw, "conntrackd.ctl"))
        }
        let pid = try ExternalCommand.startDaemon([ip, "netns", "exec", names.namespace(fw)] + arguments(role, on: fw),
                                                  log: logPath(role, on: fw))
        try FileSystem.write("\(pid)\n", to: names.file(fw, role.pidFile))
        if role == .conntrackd {
            let ready = try waitUntil(10, step: 0.1, interruption: interruption) {
                guard NamespaceProcesses.isAlive(pid) else { return true }
                return (try? control(fw, "-s"))?.status == 0
            }
            guard ready, NamespaceProcesses.isAlive(pid) else {
                throw .timedOut(waitingFor: "conntrackd on \(fw) to answer on its control socket", seconds: 10,
                                log: names.file(fw, "conntrackd.log"))
            }
        }
        return pid
    }

    /// Runs `conntrackd -C conf ARGS` inside the firewall (a control request).
    func control(_ fw: Firewall, _ args: String...) throws(LabError) -> ExternalCommand.Output {
        try ExternalCommand.run([ip, "netns", "exec", names.namespace(fw)] + conntrackdBinary(fw)
                                + ["-C", names.file(fw, "conntrackd.conf")] + args, timeout: 10)
    }

    func pid(_ role: DaemonRole, on fw: Firewall) -> pid_t? {
        NamespaceProcesses.readPID(names.file(fw, role.pidFile))
    }

    func isRunning(_ role: DaemonRole, on fw: Firewall) -> Bool {
        guard let p = pid(role, on: fw) else { return false }
        return NamespaceProcesses.isAlive(p) && NamespaceProcesses.belongs(p, to: [names.namespace(fw)])
    }

    /// Started and gone. Right after the spawn the process is still `ip netns exec` in the
    /// host's namespace, so this asks only whether the PID lives.
    func hasExited(_ role: DaemonRole, on fw: Firewall) -> Bool {
        guard let p = pid(role, on: fw) else { return false }
        return !NamespaceProcesses.isAlive(p)
    }

    /// The process whose stop is the failover: keepalived's parent or `tandem run`.
    func vrrpRole(_ fw: Firewall) -> DaemonRole { flavor(fw) == .tandemRun ? .tandemRun : .keepalived }

    /// Every lab-started daemon PID, VRRP processes first (so they resign before their
    /// replication partner goes).
    func mainPIDs() -> [pid_t] {
        Firewall.allCases.flatMap { fw in
            flavor(fw).roles.sorted { a, _ in a.runsVRRP }.compactMap { pid($0, on: fw) }
        }
    }
}
