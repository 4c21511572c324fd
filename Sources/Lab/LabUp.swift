#if canImport(Glibc)
import Glibc
#endif

/// What `tandem lab up` builds.
public struct UpOptions: Sendable {
    public var stack: LabStack = .tandemRun
    public var sync = true
    public var advertInterval: Double = 1
    /// `tandem run --peer-view PORT` on both firewalls (the tandem-run stack only).
    public var peerView: UInt16?
    public init() {}
}

extension Lab {
    /// Builds the topology, writes the seed's configs and starts the stack: replication
    /// first, then fw1's VRRP (it must hold both VIPs), then fw2's (it must settle as backup).
    public func up(_ options: UpOptions) throws(LabError) {
        try requireRoot()
        guard let tandem = FileSystem.currentExecutable() else {
            throw .file("read", path: "/proc/self/exe", errno: errno)
        }
        let settings = LabSettings(stack: options.stack, sync: options.sync, advertInterval: options.advertInterval,
                                   tandem: tandem, startedAt: WallClock.now(), peerView: options.peerView)
        try checkPrograms(for: settings)
        let topology = try Topology(names: names)
        topology.teardown(firstStopping: recordedPIDs())
        FileSystem.removeTree(names.stateDirectory)
        do {
            try writeFiles(settings)
            console.err("lab \(names.prefix): building namespaces \(names.allNamespaces.joined(separator: " "))")
            try topology.build(rulesFile: names.stateDirectory + "/rules.v4")
            let supervisor = try DaemonSupervisor(names: names, settings: settings, interruption: interruption)
            try startStack(supervisor)
            if !settings.sync {
                for fw in Firewall.allCases { try topology.setSyncLink(of: fw, up: false) }
            }
            try FileSystem.write(settings.text, to: names.stateFile)
        } catch {
            topology.teardown(firstStopping: recordedPIDs())
            if case .timedOut(_, _, let log?) = error, let text = FileSystem.read(log) {
                console.err("last lines of \(log):")
                for line in text.split(separator: "\n").suffix(15) { console.err("  " + line) }
            }
            console.err("lab \(names.prefix): up failed; namespaces removed, logs kept in \(names.stateDirectory) (`tandem lab down` removes them)")
            throw error
        }
        printSummary(settings)
    }

    private func checkPrograms(for settings: LabSettings) throws(LabError) {
        _ = try ExternalCommand.require("ip", for: "namespaces (iproute2)")
        _ = try ExternalCommand.require("iptables-restore", for: "the seed's ruleset (iptables)")
        let flavors = Firewall.allCases.map { settings.stack.flavor(of: $0) }
        if flavors.contains(where: \.usesNotifyScript) && !FileSystem.exists(NotifyScript.debianExample) {
            throw .missingProgram(NotifyScript.debianExample, neededFor: "the seed's notify script (Debian package conntrackd)")
        }
        if flavors.contains(.reference) {
            _ = try ExternalCommand.require("/usr/sbin/conntrackd", for: "the reference stack (Debian package conntrackd)")
            _ = try ExternalCommand.require("/usr/sbin/keepalived", for: "the reference stack (Debian package keepalived)")
        }
    }

    private func writeFiles(_ settings: LabSettings) throws(LabError) {
        try FileSystem.makeDirectories(names.binDirectory)
        for name in ["conntrackd", "keepalived"] {
            // Busybox dispatch on argv[0]: these links are Tandem.
            try FileSystem.symlink(settings.tandem, at: names.binDirectory + "/" + name)
        }
        try FileSystem.write(SeedConfiguration.ruleset, to: names.stateDirectory + "/rules.v4")
        let example = FileSystem.read(NotifyScript.debianExample)
        for fw in Firewall.allCases {
            try FileSystem.makeDirectories(names.directory(fw))
            let seed = SeedConfiguration(names: names, fw: fw, advertInterval: settings.advertInterval)
            try FileSystem.write(seed.conntrackdConf, to: names.file(fw, "conntrackd.conf"))
            try FileSystem.write(seed.keepalivedConf, to: names.file(fw, "keepalived.conf"))
            let flavor = settings.stack.flavor(of: fw)
            guard flavor.usesNotifyScript, let example else { continue }
            let conntrackd = flavor == .reference ? "/usr/sbin/conntrackd" : names.binDirectory + "/conntrackd"
            let notify = NotifyScript(names: names, fw: fw, conntrackd: conntrackd)
            try FileSystem.write(try notify.script(fromExample: example), to: notify.scriptPath, mode: 0o755)
            try FileSystem.write(notify.wrapper, to: notify.wrapperPath, mode: 0o755)
        }
    }

    func startStack(_ supervisor: DaemonSupervisor) throws(LabError) {
        for fw in Firewall.allCases {
            for role in supervisor.flavor(fw).roles where !role.runsVRRP {
                console.err("lab \(names.prefix): starting \(role.rawValue) on \(fw)")
                try supervisor.start(role, on: fw)
            }
        }
        try startVRRP(on: .fw1, supervisor)
        try waitForVIPs(on: .fw1, supervisor, peerReleased: false)
        try startVRRP(on: .fw2, supervisor)
        try waitSettled(supervisor)
    }

    func startVRRP(on fw: Firewall, _ supervisor: DaemonSupervisor) throws(LabError) {
        let role = supervisor.vrrpRole(fw)
        console.err("lab \(names.prefix): starting \(role.rawValue) on \(fw)")
        try supervisor.start(role, on: fw)
    }

    /// Bounded wait until `fw` holds both VIPs (and, if asked, its peer none).
    func waitForVIPs(on fw: Firewall, _ supervisor: DaemonSupervisor, peerReleased: Bool, seconds: Double? = nil) throws(LabError) {
        let probe = try AddressProbe(namespace: names.namespace(fw))
        let peer = try AddressProbe(namespace: names.namespace(fw.peer))
        let limit = seconds ?? 15 + 3 * supervisor.settings.advertInterval
        let role = supervisor.vrrpRole(fw)
        let held = try waitUntil(limit, step: 0.05, interruption: interruption) { () throws(LabError) -> Bool in
            guard !supervisor.hasExited(role, on: fw) else {
                throw .timedOut(waitingFor: "\(fw) to hold both VIPs: its \(role.rawValue) exited", seconds: 0,
                                log: supervisor.logPath(role, on: fw))
            }
            guard try probe.virtualAddresses().both else { return false }
            if !peerReleased { return true }
            return try peer.virtualAddresses().none
        }
        guard held else {
            throw .timedOut(waitingFor: "\(fw) to hold both VIPs", seconds: limit, log: supervisor.logPath(role, on: fw))
        }
    }

    /// fw1 has run its primary notify to the end and fw2 has settled as backup (its
    /// backup notify finished, or for `tandem run` a log line saying so).
    func waitSettled(_ supervisor: DaemonSupervisor) throws(LabError) {
        let limit = 15 + 3 * supervisor.settings.advertInterval
        if supervisor.flavor(.fw1).usesNotifyScript {
            guard try waitUntil(limit, interruption: interruption, { notifyFinished(.fw1, "-B") }) else {
                throw .timedOut(waitingFor: "fw1's primary notify script to finish", seconds: limit, log: names.file(.fw1, "notify.log"))
            }
        }
        if supervisor.flavor(.fw2).usesNotifyScript {
            guard try waitUntil(limit, interruption: interruption, { notifyFinished(.fw2, "-n") }) else {
                throw .timedOut(waitingFor: "fw2's backup notify script to finish", seconds: limit, log: names.file(.fw2, "notify.log"))
            }
        } else {
            // `tandem run` has no script; give it a few advert intervals to log its backup state.
            let log = supervisor.logPath(.tandemRun, on: .fw2)
            _ = try waitUntil(3 * supervisor.settings.advertInterval + 2, step: 0.1, interruption: interruption) {
                (FileSystem.read(log) ?? "").lowercased().contains("backup")
            }
        }
        let fw1 = try AddressProbe(namespace: names.namespace(.fw1)).virtualAddresses()
        let fw2 = try AddressProbe(namespace: names.namespace(.fw2)).virtualAddresses()
        guard fw1.both && fw2.none else {
            throw .timedOut(waitingFor: "fw1 MASTER with both VIPs and fw2 BACKUP with none (fw1: \(fw1.description), fw2: \(fw2.description))",
                            seconds: limit, log: supervisor.logPath(supervisor.vrrpRole(.fw2), on: .fw2))
        }
    }

    func notifyTrace(_ fw: Firewall) -> [NotifyTraceLine] {
        (FileSystem.read(names.file(fw, "notify.log")) ?? "").split(separator: "\n").compactMap(NotifyTraceLine.init)
    }

    func notifyFinished(_ fw: Firewall, _ flag: String) -> Bool {
        notifyTrace(fw).contains { $0.isCall(flag) }
    }

    private func printSummary(_ s: LabSettings) {
        console.out("lab \(names.prefix) is up: stack \(s.stack.rawValue)")
        for fw in Firewall.allCases {
            console.out("  \(fw) (\(names.namespace(fw))): \(s.stack.flavor(of: fw).description)\(fw == .fw1 ? " — MASTER, holds \(SeedAddressing.lanVIP) and \(SeedAddressing.wanVIP)" : " — BACKUP")")
        }
        console.out("  client \(SeedAddressing.client) (\(names.client)) → server \(SeedAddressing.server) (\(names.server)) via the VIPs, SNAT to \(SeedAddressing.wanVIP)")
        if !s.sync {
            console.out("  replication OFF: the sync link (\(LabInterface.sync)) is down on both firewalls (--no-sync)")
        }
        console.out("  configs and logs: \(names.stateDirectory)")
    }
}
