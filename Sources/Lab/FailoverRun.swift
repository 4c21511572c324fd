#if canImport(Glibc)
import Glibc
#endif

extension Lab {
    /// Opens the sessions through the VIPs, fails fw1 over (and back, if asked), and
    /// reports a timeline and a verdict per session. Returns whether every session survived.
    public func failover(_ options: FailoverOptions) throws(LabError) -> Bool {
        try requireRoot()
        let settings = try LabSettings.load(names)
        let supervisor = try DaemonSupervisor(names: names, settings: settings, interruption: interruption)
        let topology = try Topology(names: names)
        try checkSteadyState(supervisor)

        let watcher = try VIPWatcher(names: names)
        try watcher.start()
        defer { watcher.stop() }
        let engine = try SessionEngine(names: names, options: .init(tcpSessions: options.sessions, push: options.push))
        try engine.start()
        defer { _ = engine.stop() }

        console.err("lab \(names.prefix): opening \(options.sessions) SSH-like TCP sessions, a UDP stream and a ping through the VIPs")
        let opened = WallClock.now()
        guard try waitUntil(10, interruption: interruption, { engine.readySessions == engine.sessionCount }) else {
            throw .timedOut(waitingFor: "the sessions to carry data through fw1 (\(engine.readySessions) of \(engine.sessionCount) did)",
                            seconds: 10, log: nil)
        }
        if settings.sync { try waitForReplication(supervisor, ports: engine.clientPorts, opened: opened) }
        var load: (flows: Int, baseline: Int)?
        if options.flows > 0 { load = try addLoad(options.flows, supervisor) }
        try observe(until: WallClock.now() + 2)
        try waitForScheduledPurge(supervisor)

        var phases: [Phase] = []
        var actions: [String] = []
        var notes: [String] = []
        let t0 = WallClock.now()
        var counter: KernelCountWatcher?
        if let load {
            counter = try KernelCountWatcher(namespace: names.namespace(.fw2), target: load.flows, since: t0)
            try counter?.start()
        }
        defer { counter?.stop() }
        actions.append(try fail(options.how, supervisor, topology))
        console.err("lab \(names.prefix): failover at \(clockTime(t0)): \(actions[0]); observing \(formatSeconds(options.post)) s")
        try observe(until: t0 + options.post)
        phases.append(Phase(name: "failover", action: t0, end: WallClock.now()))

        if options.failback {
            let t1 = WallClock.now()
            actions.append(try restore(options.how, supervisor, topology))
            console.err("lab \(names.prefix): failback at \(clockTime(t1)): \(actions[1])")
            // A returning node may first wait for its peer's table (tandem run demotes itself meanwhile).
            let limit = 45 + 3 * settings.advertInterval
            let back = try waitUntil(limit, interruption: interruption) { watcher.moved(to: .fw1, since: t1, peerReleased: true) != nil }
            if !back { notes.append("failback: fw1 did not take both VIPs back within \(formatSeconds(limit)) s") }
            let from = watcher.moved(to: .fw1, since: t1, peerReleased: true) ?? WallClock.now()
            try observe(until: from + options.post)
            phases.append(Phase(name: "failback", action: t1, end: WallClock.now()))
        }
        let records = engine.stop()
        watcher.stop()
        counter?.stop()
        var extra: [TimelineEvent] = []
        if let load {
            if let t = counter?.reachedAt {
                extra.append(TimelineEvent(time: t, text: "fw2's kernel holds all \(load.flows) replicated flows"))
            } else {
                notes.append("fw2's kernel never held all \(load.flows) replicated flows during the observation")
            }
        }

        var report = FailoverReport(
            settings: settings, options: options, phases: phases, actions: actions, notes: notes,
            records: records, vipHistory: watcher.history,
            takeovers: phases.indices.map { i in
                let fw: Firewall = i == 0 ? .fw2 : .fw1
                let role = supervisor.vrrpRole(fw)
                return TakeoverLog(names: names, flavor: supervisor.flavor(fw), fw: fw, logPath: supervisor.logPath(role, on: fw))
            })
        report.extraEvents = extra
        for line in report.lines() { console.out(line) }
        try FileSystem.write(report.json(), to: names.resultsFile)
        if let kept = options.keepResults {
            try FileSystem.write(report.json(), to: kept)
            console.out("raw data: \(kept)")
        } else {
            console.out("raw data: \(names.resultsFile)")
        }
        // Drawn only now, from what was recorded: the picture costs the run nothing.
        if let plot = options.plot {
            try FileSystem.write(FailoverPicture(report.recordedRun).svg, to: plot)
            console.out("picture: \(plot)")
        }
        return report.allSurvived && notes.isEmpty
    }

    /// Adds `count` established flows to fw1's table and waits (bounded) until fw2's
    /// external cache holds them; returns the count and fw2's kernel count before.
    private func addLoad(_ count: Int, _ supervisor: DaemonSupervisor) throws(LabError) -> (flows: Int, baseline: Int) {
        let made = try ReplicatedLoad.insert(count, namespace: names.namespace(.fw1))
        console.err("lab \(names.prefix): \(made) established flows added to fw1's table; waiting for fw2's external cache")
        var external = 0
        let arrived = try waitUntil(120, step: 0.5, interruption: interruption) {
            guard let r = try? supervisor.control(.fw2, "-s"), r.status == 0 else { return false }
            external = Self.externalCount(r.text) ?? 0
            return external >= made
        }
        if !arrived { console.err("lab \(names.prefix): warning: fw2's external cache holds \(external) entries after 120 s (\(made) added)") }
        return (made, external)
    }

    /// "current active connections" of the external cache in `conntrackd -s` output.
    static func externalCount(_ text: String) -> Int? {
        let lines = text.split(separator: "\n")
        guard let block = lines.firstIndex(where: { $0.contains("cache external") }),
              let line = lines[block...].first(where: { $0.contains("current active connections") }) else { return nil }
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap { Int($0) }
    }

    /// The lab must be as `up` left it: fw1 master with both VIPs, every daemon alive.
    private func checkSteadyState(_ supervisor: DaemonSupervisor) throws(LabError) {
        for fw in Firewall.allCases {
            for role in supervisor.flavor(fw).roles where !supervisor.isRunning(role, on: fw) {
                throw .badState(path: names.stateDirectory, reason: "\(fw)'s \(role.rawValue) is not running, see \(supervisor.logPath(role, on: fw))")
            }
        }
        let fw1 = try AddressProbe(namespace: names.namespace(.fw1)).virtualAddresses()
        let fw2 = try AddressProbe(namespace: names.namespace(.fw2)).virtualAddresses()
        guard fw1.both && fw2.none else {
            throw .badState(path: names.stateDirectory,
                            reason: "fw1 must hold both VIPs and fw2 none (fw1: \(fw1.description), fw2: \(fw2.description)); a failover already ran")
        }
    }

    /// With PollSecs 5 a new flow reaches the backup only at the next poll: wait until fw2's
    /// external cache has every TCP and UDP session, or fall back to waiting one poll period.
    private func waitForReplication(_ supervisor: DaemonSupervisor, ports: [(kind: SessionKind, port: UInt16)], opened: Double) throws(LabError) {
        let patterns = ports.map { p in
            "sport=\(p.port) dport=\(p.kind == .tcp ? SeedAddressing.sshPort : SeedAddressing.streamPort)"
        }
        var answered = false
        let replicated = try waitUntil(15, step: 0.2, interruption: interruption) {
            guard let r = try? supervisor.control(.fw2, "-e"), r.status == 0 else { return false }
            answered = true
            return patterns.allSatisfy { r.text.contains($0) }
        }
        if replicated { return }
        if !answered {
            console.err("lab \(names.prefix): fw2's external cache cannot be queried; waiting one PollSecs period instead")
            try observe(until: opened + 6)
        } else {
            console.err("lab \(names.prefix): warning: fw2's external cache lacks some sessions after 15 s")
        }
    }

    /// fw2's backup notify ran `conntrackd -t`, which flushes fw2's kernel table PurgeTimeout
    /// (5 s) later; let that pass first so it cannot hit the state just committed.
    private func waitForScheduledPurge(_ supervisor: DaemonSupervisor) throws(LabError) {
        guard supervisor.flavor(.fw2).usesNotifyScript,
              let purge = notifyTrace(.fw2).last(where: { $0.isCall("-t") })?.finished else { return }
        try observe(until: purge + 5.5)
    }

    /// Sleeps in short steps so Ctrl-C is honoured.
    func observe(until t: Double) throws(LabError) {
        while WallClock.now() < t {
            if interruption.requested { throw LabError.interrupted }
            WallClock.sleep(min(0.05, t - WallClock.now()))
        }
    }

    /// Performs the failure; returns its description for the timeline.
    private func fail(_ how: FailoverMethod, _ supervisor: DaemonSupervisor, _ topology: Topology) throws(LabError) -> String {
        let ns = [names.namespace(.fw1)]
        let role = supervisor.vrrpRole(.fw1)
        switch how {
        case .stop:
            guard let pid = supervisor.pid(role, on: .fw1), NamespaceProcesses.signal(pid, SIGTERM, ifIn: ns) else {
                throw .badState(path: names.stateDirectory, reason: "fw1's \(role.rawValue) is gone")
            }
            return "SIGTERM to fw1's \(role.rawValue) (pid \(pid)), the seed's `systemctl stop keepalived`"
        case .kill:
            // Children (keepalived's VRRP process, scripts) before the parents: a parent killed
            // first lets its VRRP child shut down gracefully, which a crash does not.
            let mains = Set(supervisor.flavor(.fw1).roles.compactMap { supervisor.pid($0, on: .fw1) })
            let all = NamespaceProcesses.pids(in: names.namespace(.fw1))
            for pid in all.filter({ !mains.contains($0) }) + all.filter({ mains.contains($0) }) {
                NamespaceProcesses.signal(pid, SIGKILL, ifIn: ns)
            }
            _ = try waitUntil(2, step: 0.01, interruption: interruption) { all.allSatisfy { !NamespaceProcesses.isAlive($0) } }
            try topology.setSwitchPorts(of: .fw1, up: false)
            return "fw1 dies: SIGKILL to its \(all.count) processes, then its LAN and WAN cables unplugged"
        case .link:
            try topology.setSwitchPorts(of: .fw1, up: false)
            return "fw1's LAN and WAN cables unplugged at the switch (its daemons keep running)"
        }
    }

    /// Brings fw1 back; it is `state MASTER` with the higher priority, so it takes over again.
    /// After stop and kill it returns as after a reboot. Its kernel table would otherwise
    /// still hold the flows as they were before the failover: committing the replicated
    /// state on top fails with EEXIST, and conntrack marks the peers' packets INVALID
    /// (their ACKs cover data fw1 never saw), so fw1's own stack resets the sessions.
    private func restore(_ how: FailoverMethod, _ supervisor: DaemonSupervisor, _ topology: Topology) throws(LabError) -> String {
        if how == .link {
            try topology.setSwitchPorts(of: .fw1, up: true)
            return "fw1's cables plugged in again"
        }
        let ns = names.namespace(.fw1)
        NamespaceProcesses.stop(NamespaceProcesses.pids(in: ns), in: [ns], grace: 5)
        topology.removeVirtualAddresses(from: .fw1)
        _ = try? ExternalCommand.run(["ip", "netns", "exec", ns, supervisor.settings.tandem, "conntrack", "-F"])
        if how == .kill { try topology.setSwitchPorts(of: .fw1, up: true) }
        let roles = supervisor.flavor(.fw1).roles
        for role in roles { try supervisor.start(role, on: .fw1) }
        return "fw1 back as after a reboot: conntrack table and VIPs cleared\(how == .kill ? ", cables plugged in" : ""), "
            + roles.map(\.rawValue).joined(separator: " and ") + " started"
    }

    private func clockTime(_ t: Double) -> String {
        var seconds = time_t(t)
        var parts = tm()
        localtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = Int((t - Double(Int(t))) * 1000)
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
    }
}
