#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ConfigParsing
import Daemon
import Logging
import LinkIO
import MetricsEndpoint
import StateSync
import Timekeeping

/// `tandem run`: the node daemon reading the two legacy files.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem run",
        abstract: "Run one firewall of the pair: VRRP (keepalived.conf) and state replication (conntrackd.conf) in one process.",
        discussion: """
        On becoming MASTER the replicated flows are committed to the kernel before the virtual \
        addresses are added and announced. Until the peer's table has arrived after a resync \
        request, the node advertises its priority lowered by --sync-demotion.
        """
    )

    @Option(name: .customLong("keepalived-config"), help: "keepalived.conf with the VRRP instances.")
    var keepalivedConfig = "/etc/keepalived/keepalived.conf"

    @Option(name: .customLong("conntrackd-config"), help: "conntrackd.conf with the Sync section.")
    var conntrackdConfig = "/etc/conntrackd/conntrackd.conf"

    @Option(name: .customLong("sync-demotion"), help: "Priority points taken off while the peer's table has not arrived (0 = off).")
    var syncDemotion = 50

    @Flag(name: .customLong("run-sync-scripts"), help: "Also run notify scripts named primary-backup.sh (their steps are done in-process).")
    var runSyncScripts = false

    @Option(name: .customLong("notify-split-brain"),
            help: "Script run with KIND INSTANCE begin|end when a split brain is suspected or over (bothMaster, vrrpLostSyncAlive, syncLostVRRPAlive).")
    var notifySplitBrain: String?

    @Option(name: .customLong("peer-view"),
            help: "Exchange VRRP states with a Tandem peer on this UDP port, between the sync link's addresses or on its Multicast group (both nodes; docs/split-brain.md).")
    var peerView: Int?

    @Flag(name: .customLong("check"), help: "Check both files and exit.")
    var check = false

    @Option(name: .customLong("retry-interval"), help: "Seconds between attempts when an interface or address is missing.")
    var retryInterval = 2.0

    @Option(name: .customLong("metrics-listen"), help: "Serve Prometheus metrics on http://ADDR:PORT/metrics (IPv4 ADDR:PORT or [IPv6]:PORT).")
    var metricsListen: String?

    @Option(name: .customLong("sync-key"), help: "Authenticate the sync link with the key in FILE (owner-only, at least 32 bytes); SIGHUP re-reads it.")
    var syncKey: String?

    @Option(name: .customLong("sync-key-next"), help: "Also accept messages under the key in FILE (key rotation); SIGHUP re-reads it, a missing file means none.")
    var syncKeyNext: String?
}

public struct RunTool {
    let output: OutputSink
    let shouldStop: () -> Bool
    /// keepalived's signals received since the last turn (SIGHUP, SIGUSR1, SIGUSR2, …).
    let signals: () -> Set<DaemonSignal>

    public init(output: OutputSink, shouldStop: @escaping () -> Bool = { false }) {
        self.init(output: output, shouldStop: shouldStop, signals: { [] })
    }

    init(output: OutputSink, shouldStop: @escaping () -> Bool, signals: @escaping () -> Set<DaemonSignal>) {
        self.output = output
        self.shouldStop = shouldStop
        self.signals = signals
    }

    public func run(_ argv: [String]) -> Int32 {
        let command: RunCommand
        do {
            command = try RunCommand.parse(argv)
        } catch {
            let code = RunCommand.exitCode(for: error)
            if code == .success { output.out(RunCommand.fullMessage(for: error)) } else { output.err(RunCommand.fullMessage(for: error)) }
            return code.rawValue
        }
        guard (0...254).contains(command.syncDemotion) else {
            output.err("tandem run: --sync-demotion must be between 0 and 254")
            return 64
        }
        if let port = command.peerView, !(1...65535).contains(port) {
            output.err("tandem run: --peer-view must be a UDP port (1-65535)")
            return 64
        }
        var metricsAddress: ListenAddress?
        if let text = command.metricsListen {
            do {
                metricsAddress = try ListenAddress(text)
            } catch {
                output.err("tandem run: --metrics-listen: \(error)")
                return 64
            }
        }
        let syncKeys: SyncKeys?
        do {
            syncKeys = try SyncKeyFlags(currentFile: command.syncKey, nextFile: command.syncKeyNext).load()
        } catch {
            output.err("tandem run: \(error)")
            return 1
        }
        // Both files are checked before anything touches the network.
        let keepalived: KeepalivedConfiguration
        let conntrackd: ConntrackdConfiguration
        do {
            keepalived = try KeepalivedConfigParser.parse(file: command.keepalivedConfig)
        } catch {
            output.err(error.description)
            return 1
        }
        var refused = keepalived.unsupported
        // The node runs both halves in one namespace; `tandem keepalived` alone moves itself.
        if let at = keepalived.netNamespaceLocation {
            refused.append(ConfigError("`net_namespace' under tandem run is not supported by tandem (start it inside the namespace: ip netns exec)",
                                       at: at, token: "net_namespace"))
        }
        for e in keepalived.errors + refused { output.err(e.description) }
        guard keepalived.errors.isEmpty && refused.isEmpty else { return 1 }
        do {
            conntrackd = try ConntrackdConfigParser.parse(file: command.conntrackdConfig)
        } catch {
            output.err(error.description)
            return 1
        }
        if !conntrackd.unsupported.isEmpty {
            for e in conntrackd.unsupported { output.err(e.description) }
            return 1
        }
        for w in keepalived.warnings + conntrackd.warnings { output.err(w.description) }
        for e in keepalived.toleratedErrors { output.err(e.description) }
        // keepalived.conf's umask covers the whole node (no -u here to override it).
        if let mask = keepalived.fileMask {
            umask(mode_t(mask))
            KeepalivedDaemon.fileMask = mode_t(mask)
        }
        if keepalived.instances.isEmpty {
            output.err("\(command.keepalivedConfig): no vrrp_instance configured")
            return 1
        }
        guard let sync = conntrackd.sync else {
            output.err("\(command.conntrackdConfig): no Sync section: tandem run replicates state and needs one")
            return 1
        }
        // Checked before the start (and by --check): the views go between the UDP link's addresses.
        if command.peerView != nil, let problem = FailoverNode.peerViewProblem(sync) {
            output.err("tandem run: \(command.conntrackdConfig): \(problem)")
            return 1
        }
        if command.check {
            output.out("\(command.keepalivedConfig), \(command.conntrackdConfig): configuration OK")
            return 0
        }
        // Scripts keepalived would disable (missing, not executable, unsafe under
        // enable_script_security) are not run here either.
        let vetting = ScriptVetting(keepalived)
        for l in vetting.logLines + vetting.errors + [vetting.securityViolation].compactMap({ $0 }) { output.err(l) }
        return runNode(command, keepalived: vetting.vetted, conntrackd: conntrackd, metricsAddress: metricsAddress, syncKeys: syncKeys)
    }

    func runNode(_ command: RunCommand, keepalived: KeepalivedConfiguration, conntrackd: ConntrackdConfiguration,
                 metricsAddress: ListenAddress?, syncKeys: SyncKeys? = nil) -> Int32 {
        let lock: LockFile
        do {
            lock = try LockFile(conntrackd.general.lockFile)
        } catch {
            output.err("tandem run: \(error)")
            return 1
        }
        defer { lock.release() }
        let out = output
        let lines = LineLogHandler(format: { _, message in Self.stamp() + " tandem[\(getpid())]: " + message }, write: { out.err($0) })
        let syslog = SyslogLogHandler(facility: conntrackd.general.syslogFacility, ident: "tandem")
        let logger = Logger.tandem("tandem", handlers: [lines] + (syslog.map { [$0] } ?? []))
        let log: (String) -> Void = { logger.notice("\($0)") }
        if let pid = lock.tookOverFrom { log("took over the stale lock file \(lock.path) of pid \(pid), no longer running") }
        if let scheduler = conntrackd.general.scheduler {
            log(RealtimeScheduler.apply(scheduler) ?? RealtimeScheduler.describe(scheduler))
        }
        // Listening is a start-up step: a port in use ends the start here, not later.
        var metricsServer: MetricsServer?
        if let metricsAddress {
            do {
                metricsServer = try MetricsServer.start(metricsAddress)
            } catch {
                output.err("tandem run: --metrics-listen: \(error)")
                return 1
            }
        }
        defer { metricsServer?.stop() }
        if let metricsServer { log("metrics on http://\(metricsServer.address)/metrics") }
        // One feed for every start of the node: its series carry on across a restart.
        let metrics = metricsServer?.feed()
        var lastProblem = ""
        while !shouldStop() {
            do {
                let node = try FailoverNode(keepalived: keepalived, conntrackd: conntrackd,
                                            options: .init(syncDemotion: command.syncDemotion, runSyncScripts: command.runSyncScripts,
                                                          notifySplitBrain: command.notifySplitBrain, syncKeys: syncKeys,
                                                          peerViewPort: command.peerView.map { UInt16($0) }),
                                            logger: logger, shouldStop: shouldStop)
                if !lastProblem.isEmpty { log("started after: \(lastProblem)") }
                let systemd = SystemdSession(enabled: conntrackd.general.systemd)
                let signals = self.signals
                node.metrics = metrics
                node.afterTurn = {
                    for s in signals() {
                        if s == .reload { systemd.reloading() }
                        Self.act(on: s, node: node, command: command, running: conntrackd, log: log)
                        if s == .reload { systemd.ready(status: "VRRP and replication running (reloaded)") }
                    }
                    systemd.turn(now: Instant.now())
                }
                defer { systemd.stopping() }
                try node.run { systemd.ready(status: "VRRP and replication running") }
                return 0
            } catch let e as SetupError where !e.isTransient {
                log("cannot start: \(e)")
                return 1
            } catch {
                // A missing interface or address may appear (the link comes up later): retry.
                let problem = "\(error)"
                if problem != lastProblem { log("cannot start yet: \(problem); retrying every \(command.retryInterval) s") }
                lastProblem = problem
                let deadline = Instant.now() + .seconds(command.retryInterval)
                while !shouldStop() && Instant.now() < deadline { usleep(50_000) }
            }
        }
        return 0
    }

    /// keepalived's signals, answered as `tandem keepalived` answers them. A reload also
    /// re-reads conntrackd.conf: conntrackd itself cannot reload, so a changed file is
    /// reported and takes effect at the next start, never half-applied.
    static func act(on s: DaemonSignal, node: FailoverNode, command: RunCommand, running: ConntrackdConfiguration, log: (String) -> Void) {
        KeepalivedTool.act(on: s, daemon: node.keepalived, file: command.keepalivedConfig, log: log)
        guard s == .reload else { return }
        reloadSyncKeys(node: node, command: command, log: log)
        do {
            let reread = try ConntrackdConfigParser.parse(file: command.conntrackdConfig)
            if reread != running {
                log("\(command.conntrackdConfig) changed: its settings take effect when tandem run restarts (conntrackd cannot reload either); the running ones stay")
            }
        } catch {
            log("\(command.conntrackdConfig) re-read on reload: \(error.description); the running settings stay")
        }
    }

    /// ISO-8601 UTC with milliseconds: the lab reads these to build its timeline.
    static func stamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = Int(ts.tv_nsec / 1_000_000)
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(msText)Z"
    }
}
