#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Daemon
import Logging
import MetricsEndpoint

/// `tandem keepalived` and the `keepalived` link: the VRRP daemon, and `-t` /
/// `--config-test` with keepalived 2.2.7's exit codes (0 OK, 4 cannot run, 5 errors but
/// would run, 6 scripts without script security). The flags the reference lab passes are
/// accepted. Signals as keepalived: HUP reloads, USR1/USR2/RTMIN+2 dump data, stats, JSON
/// into $TMPDIR (default /tmp).
public struct KeepalivedTool {
    let output: OutputSink
    let shouldStop: () -> Bool
    let signals: () -> Set<DaemonSignal>

    public init(output: OutputSink, shouldStop: @escaping () -> Bool = { false }) {
        self.init(output: output, shouldStop: shouldStop, signals: { [] })
    }

    init(output: OutputSink, shouldStop: @escaping () -> Bool, signals: @escaping () -> Set<DaemonSignal>) {
        self.output = output
        self.shouldStop = shouldStop
        self.signals = signals
    }

    static let flagsWithValue: Set<String> = ["-p", "--pid", "-r", "--vrrp_pid", "-c", "--checkers_pid", "-b", "--bfd_pid",
                                               "-S", "--log-facility", "-g", "--log-file", "-i", "--config-id", "-s", "--namespace"]

    public func run(_ argv: [String]) -> Int32 {
        var file = "/etc/keepalived/keepalived.conf"
        var test = false
        var pidFiles: [String] = []
        var metricsAddress: ListenAddress?
        var i = 0
        while i < argv.count {
            let a = argv[i]
            if a == "-f" || a == "--use-file" {
                guard i + 1 < argv.count else { output.err("keepalived: option -f needs a file"); return 2 }
                file = argv[i + 1]
                i += 2
                continue
            }
            if a == "--metrics-listen" || a.hasPrefix("--metrics-listen=") {
                // Tandem's own: keepalived 2.2.7 has no metrics endpoint.
                let value: String
                if a == "--metrics-listen" {
                    guard i + 1 < argv.count else { output.err("keepalived: option --metrics-listen needs ADDR:PORT"); return 2 }
                    value = argv[i + 1]
                    i += 1
                } else {
                    value = String(a.dropFirst("--metrics-listen=".count))
                }
                do {
                    metricsAddress = try ListenAddress(value)
                } catch {
                    output.err("keepalived: --metrics-listen: \(error)")
                    return 2
                }
            }
            else if a.hasPrefix("--use-file=") { file = String(a.dropFirst("--use-file=".count)) }
            else if a == "-t" || a.hasPrefix("--config-test") { test = true }
            else if ["-p", "--pid", "-r", "--vrrp_pid"].contains(a), i + 1 < argv.count { pidFiles.append(argv[i + 1]); i += 1 }
            else if Self.flagsWithValue.contains(a) { i += 1 }
            else if a == "-v" || a == "--version" { output.out("Keepalived v2.2.7 compatible (tandem)"); return 0 }
            i += 1
        }
        let config: KeepalivedConfiguration
        do {
            config = try KeepalivedConfigParser.parse(file: file)
        } catch {
            output.err(error.description)
            return 4
        }
        for w in config.warnings { output.err(w.description) }
        if !test { return runDaemon(config, file: file, pidFiles: pidFiles, metricsAddress: metricsAddress) }
        if metricsAddress != nil {
            output.err("keepalived: --metrics-listen is for the daemon; it is not supported with -t")
            return 2
        }
        var missingInterface = false
        for v in config.instances {
            for name in [v.interface].compactMap({ $0 }) + v.virtualAddresses.compactMap(\.device) where if_nametoindex(name) == 0 {
                output.err("\(v.location): warning: interface \(name) for vrrp_instance \(v.name) doesn't exist")
                missingInterface = true
            }
        }
        for e in config.errors { output.err(e.description) }
        if missingInterface { output.err("Non-existent interface specified in configuration") }
        let scripts = !config.scripts.isEmpty || config.syncGroups.contains { $0.notify != .init() }
            || config.instances.contains { $0.notify != .init() }
        if !config.errors.isEmpty || missingInterface { return 5 }
        if scripts && !config.enableScriptSecurity && config.scriptUser == nil {
            output.err("SECURITY VIOLATION - scripts are being executed but script_security not enabled.")
            return 6
        }
        return 0
    }
}

extension KeepalivedTool {
    func runDaemon(_ config: KeepalivedConfiguration, file: String, pidFiles: [String], metricsAddress: ListenAddress? = nil) -> Int32 {
        for e in config.errors { output.err(e.description) }
        // keepalived's single-instance rule: a pid file naming a live process means one is
        // running already (two would both be master, and the one that exits would take the
        // other's addresses away). A pid file whose process is gone is stale.
        for path in pidFiles {
            if let pid = PidFile.livePid(in: path) {
                output.err("Keepalived: daemon is already running (pid \(pid) in \(path))")
                return 1
            }
        }
        // Listening is a start-up step: a port in use ends the start before any pid file is written.
        var metricsServer: MetricsServer?
        if let metricsAddress {
            do {
                metricsServer = try MetricsServer.start(metricsAddress)
            } catch {
                output.err("Keepalived_vrrp: --metrics-listen: \(error)")
                return 1
            }
        }
        defer { metricsServer?.stop() }
        for path in pidFiles { PidFile.write(path) }
        defer { for path in pidFiles { PidFile.remove(path) } }
        let out = output
        let logger = Logger.tandem("keepalived", handlers: [LineLogHandler(format: { _, message in "Keepalived_vrrp[\(getpid())]: \(message)" },
                                                                          write: { out.err($0) })])
        let log: (String) -> Void = { logger.notice("\($0)") }
        let daemon: KeepalivedDaemon
        do {
            daemon = try KeepalivedDaemon(configuration: config, logger: logger, shouldStop: shouldStop)
        } catch {
            output.err("Keepalived_vrrp: \(error)")
            return 1
        }
        if let metricsServer { log("metrics on http://\(metricsServer.address)/metrics") }
        daemon.metrics = metricsServer?.feed()
        daemon.run { for s in signals() { Self.act(on: s, daemon: daemon, file: file, log: log) } }
        return 0
    }

    /// keepalived's answer to each of its signals: reload keeping state, or a dump into
    /// TMPDIR (spec §3.8, §3.9). `tandem run` answers them the same way.
    static func act(on s: DaemonSignal, daemon: KeepalivedDaemon, file: String, log: (String) -> Void) {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        switch s {
        case .reload:
            log("Reloading ...")
            do {
                let config = try KeepalivedConfigParser.parse(file: file)
                for e in config.errors { log(e.description) }
                daemon.reload(config)
            } catch {
                // keepalived may die on a bad reload; keeping the running configuration is safer.
                log("reload refused, keeping the running configuration: \(error.description)")
            }
        case .data:
            log("Printing VRRP data for process(\(getpid())) on signal")
            if !KeepalivedDaemon.writeDump(daemon.dataText(), to: directory + "/keepalived.data") { log("cannot write \(directory)/keepalived.data") }
        case .stats, .statsClear:
            log("Printing VRRP stats for process(\(getpid())) on signal")
            if !KeepalivedDaemon.writeDump(daemon.statisticsText(), to: directory + "/keepalived.stats") { log("cannot write \(directory)/keepalived.stats") }
            if s == .statsClear { daemon.clearStatistics() }
        case .json:
            if !KeepalivedDaemon.writeDump(daemon.jsonText(), to: directory + "/keepalived.json") { log("cannot write \(directory)/keepalived.json") }
        }
    }
}
