#if canImport(Glibc)
import Glibc
#endif

/// Where the lab's messages go (stdout for results, stderr for progress and errors).
public struct LabConsole: Sendable {
    let out: @Sendable (String) -> Void
    let err: @Sendable (String) -> Void
    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        self.out = out
        self.err = err
    }
}

/// `tandem lab`: the seed's two-firewall topology in network namespaces on this host.
public struct Lab: Sendable {
    public let names: LabNames
    let console: LabConsole
    let interruption: Interruption

    public init(prefix: String, console: LabConsole, interruption: Interruption) throws(LabError) {
        names = try LabNames(prefix: prefix)
        self.console = console
        self.interruption = interruption
    }

    func requireRoot() throws(LabError) {
        guard geteuid() == 0 else { throw .notRoot }
    }

    /// Leftover daemons of an earlier lab with this prefix, from its PID files.
    func recordedPIDs() -> [pid_t] {
        Firewall.allCases.flatMap { fw in
            DaemonRole.allCases.sorted { a, _ in a.runsVRRP }.compactMap { NamespaceProcesses.readPID(names.file(fw, $0.pidFile)) }
        }
    }

    // MARK: down

    /// Stops everything in the lab's namespaces, deletes them and the state directory.
    /// Returns whether anything was there.
    @discardableResult
    public func down() throws(LabError) -> Bool {
        try requireRoot()
        let topology = try Topology(names: names)
        let found = topology.teardown(firstStopping: recordedPIDs())
        let hadState = FileSystem.exists(names.stateDirectory)
        FileSystem.removeTree(names.stateDirectory)
        rmdir("/run/tandem-lab") // only if no other lab uses it
        let left = names.allNamespaces.filter { NamespaceProcesses.inode(ofNamespace: $0) != nil }
        if !left.isEmpty {
            throw .commandFailed(command: "ip netns del \(left.joined(separator: " "))", status: 1, output: "namespaces still present")
        }
        if found.namespaces == 0 && !hadState {
            console.err("lab \(names.prefix): nothing to tear down")
            return false
        }
        console.err("lab \(names.prefix): down (\(found.namespaces) namespaces deleted, \(found.processes) processes stopped, state directory removed)")
        return true
    }

    // MARK: status

    public func status() throws(LabError) {
        try requireRoot()
        let settings = try LabSettings.load(names)
        let supervisor = try DaemonSupervisor(names: names, settings: settings, interruption: interruption)
        console.out("lab \(names.prefix): stack \(settings.stack.rawValue), replication \(settings.sync ? "on" : "OFF (sync link down)"), advert_int \(formatSeconds(settings.advertInterval)) s")
        for fw in Firewall.allCases {
            let ns = names.namespace(fw)
            let vips = (try? AddressProbe(namespace: ns).virtualAddresses())?.description ?? "unknown (namespace missing?)"
            let daemons = supervisor.flavor(fw).roles.map { role -> String in
                guard let pid = supervisor.pid(role, on: fw) else { return "\(role.rawValue) not started" }
                return "\(role.rawValue) \(pid) \(supervisor.isRunning(role, on: fw) ? "running" : "DEAD")"
            }.joined(separator: ", ")
            let count = (try? ExternalCommand.run(["ip", "netns", "exec", ns, settings.tandem, "conntrack", "-C"]))
                .flatMap { $0.status == 0 ? $0.text.split(separator: "\n").first.map(String.init) : nil } ?? "?"
            console.out("\(fw): \(vips); \(daemons); conntrack entries: \(count)")
            // A Tandem node explains itself (VRRP state, demotion, resync, the peer).
            if supervisor.flavor(fw) == .tandemRun,
               let r = try? ExternalCommand.run(["ip", "netns", "exec", ns, settings.tandem, "status", "--conntrackd-config",
                                                 names.file(fw, "conntrackd.conf")]), r.status == 0 {
                for line in r.text.split(separator: "\n") { console.out("  " + line) }
            }
        }
        console.out("state: \(names.stateDirectory)")
    }
}
