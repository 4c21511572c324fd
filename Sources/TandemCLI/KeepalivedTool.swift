#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Daemon
import IPAddressing
import Logging
import MetricsEndpoint
import Timekeeping

/// `tandem keepalived` and the `keepalived` link: the VRRP daemon, and `-t` /
/// `--config-test` with keepalived 2.2.7's exit codes (0 OK, 4 cannot run, 5 errors but
/// would run, 6 scripts without script security). The command line is keepalived's
/// (KeepalivedFlags: each flag acted on, answered, accepted as changing nothing, or
/// refused). Signals as keepalived: HUP reloads, USR1/USR2/RTMIN+2 dump data, stats, JSON
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

    public func run(_ argv: [String]) -> Int32 {
        run(argv, programName: "keepalived")
    }

    func run(_ argv: [String], programName: String) -> Int32 {
        // Tandem's own flag (keepalived 2.2.7 has no metrics endpoint), taken out before
        // keepalived's own are read.
        var keepalivedArguments: [String] = []
        var metricsAddress: ListenAddress?
        var controlSocket: String?
        var i = 0
        while i < argv.count {
            let a = argv[i]
            if a == "--" { keepalivedArguments += argv[i...]; break }
            switch ControlSocketOption.read(argv, at: i) {
            case .otherArgument: break
            case .read(let path, let taking):
                controlSocket = path
                i += taking
                continue
            case .refused(let why):
                output.err("keepalived: \(why)")
                return 2
            }
            switch ListenAddress.readFlag(argv, at: i) {
            case .otherArgument:
                keepalivedArguments.append(a)
                i += 1
            case .read(let address, let taking):
                metricsAddress = address
                i += taking
            case .refused(let why):
                output.err("keepalived: \(why)")
                return 2
            }
        }
        let line: KeepalivedCommandLine
        switch KeepalivedCommandLine.parse(keepalivedArguments, programName: programName, output: output) {
        case .exit(let code): return code
        case .proceed(let l): line = l
        }
        if let mask = line.fileMask {
            umask(mask)
            KeepalivedDaemon.fileMask = mask
        }
        if let code = enterNamespace(line) { return code }
        if line.test {
            if metricsAddress != nil {
                output.err("keepalived: --metrics-listen is for the daemon; it is not supported with -t")
                return 2
            }
            if controlSocket != nil {
                output.err("keepalived: \(ControlSocketOption.flag) is for the daemon; it is not supported with -t")
                return 2
            }
            guard let path = line.testLog else { return check(line, report: output) }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                output.err("Unable to open config-test log file \(path) \(errno) - \(String(cString: strerror(errno)))")
                return 1
            }
            defer { close(fd) }
            return check(line, report: AppendingReport(fd: fd, output: output))
        }
        let config: KeepalivedConfiguration
        do {
            config = try KeepalivedConfigParser.parse(file: line.file, configID: line.configID ?? KeepalivedLineFilter.nodeName)
        } catch {
            output.err(error.description)
            return 4
        }
        for w in config.warnings { output.err(w.description) }
        for e in config.toleratedErrors { output.err(e.description) }
        Self.applyFileMask(config, line: line, log: { output.err($0) })
        // Tandem does not start on what it would otherwise have to ignore.
        if !config.unsupported.isEmpty {
            for e in config.unsupported { output.err(e.description) }
            output.err("Keepalived: \(config.unsupported.count) configuration item(s) not supported by tandem; not starting")
            return 4
        }
        for f in line.inert { output.err("Keepalived: \(f.names): \(f.note)") }
        let vetting = ScriptVetting(config)
        for l in vetting.logLines + vetting.errors + [vetting.securityViolation].compactMap({ $0 }) { output.err(l) }
        return runDaemon(vetting.vetted, line: line, metricsAddress: metricsAddress, controlSocket: controlSocket)
    }

    /// `-t`: keepalived 2.2.7's verdict. 0 OK; 5 errors it would run with, or a missing
    /// interface (where keepalived's check stops); 6 scripts found without
    /// enable_script_security (outranking the errors, as keepalived's most-severe-last
    /// ordering does). 4: the file cannot be read, or Tandem refuses something in it.
    func check(_ line: KeepalivedCommandLine, report: OutputSink) -> Int32 {
        let config: KeepalivedConfiguration
        do {
            config = try KeepalivedConfigParser.parse(file: line.file, configID: line.configID ?? KeepalivedLineFilter.nodeName)
        } catch {
            report.err(error.description)
            return 4
        }
        for w in config.warnings { report.err(w.description) }
        var missingInterface = false
        for v in config.instances {
            for name in [v.interface].compactMap({ $0 }) + v.virtualAddresses.compactMap(\.device) where if_nametoindex(name) == 0 {
                report.err("\(v.location): warning: interface \(name) for vrrp_instance \(v.name) doesn't exist")
                missingInterface = true
            }
            // keepalived's set-up stops at a tracked interface that is missing too.
            for t in v.trackInterfaces where if_nametoindex(t.name) == 0 {
                report.err("\(v.location): warning: (\(v.name)) tracked interface \(t.name) doesn't exist")
                missingInterface = true
            }
        }
        // keepalived's -t does not look: an instance that speaks from an address its
        // interface lacks is one whose peers may never hear it.
        var foreignSource = false
        for v in config.instances {
            guard let own = v.unicastSource, let name = v.interface, if_nametoindex(name) != 0 else { continue }
            let family = own.family == AddressFamily.inet6 ? AF_INET6 : AF_INET
            if !KeepalivedDaemon.interfaceAddresses(of: name, family: family).contains(own) {
                let at = v.unicastSourceLocation ?? v.location
                report.err("\(at): error: (\(v.name)) unicast_src_ip \(own) is not an address of \(name)")
                foreignSource = true
            }
        }
        for e in config.errors { report.err(e.description) }
        for e in config.unsupported { report.err(e.description) }
        if !config.unsupported.isEmpty { return 4 }
        // keepalived's VRRP set-up stops at a missing interface, before it completes the
        // instances or looks at a script.
        if missingInterface {
            report.err("Non-existent interface specified in configuration")
            return 5
        }
        for e in config.toleratedErrors { report.err(e.description) }
        let vetting = ScriptVetting(config)
        for l in vetting.logLines + vetting.errors { report.err(l) }
        if let v = vetting.securityViolation { report.err(v) }
        if vetting.securityViolation != nil { return 6 }
        if foreignSource || !config.errors.isEmpty || !config.toleratedErrors.isEmpty || !vetting.errors.isEmpty { return 5 }
        return 0
    }
}

/// `-t LOG_FILE`: the check's lines appended to the file (keepalived points its stderr there).
final class AppendingReport: OutputSink {
    let fd: Int32
    let output: OutputSink
    init(fd: Int32, output: OutputSink) {
        self.fd = fd
        self.output = output
    }
    func out(_ line: String) { output.out(line) }
    func outLine(_ body: (inout [UInt8]) -> Void) { output.outLine(body) }
    func err(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
    func flush() {}
}

extension KeepalivedTool {
    func runDaemon(_ config: KeepalivedConfiguration, line: KeepalivedCommandLine, metricsAddress: ListenAddress? = nil,
                   controlSocket: String? = nil) -> Int32 {
        let names = KeepalivedNamespaceNames(namespace: getenv(Self.namespaceMarker).map { String(cString: $0) })
        let (file, configID) = (line.file, line.configID)
        let pidFiles = names.pidFiles(main: line.mainPidFile, vrrp: line.vrrpPidFile)
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
        let control: ControlServer?
        let controlNote: String
        switch openControlSocket(explicit: controlSocket, line: line) {
        case .opened(let server):
            (control, controlNote) = (server, "control socket \(server.path) (tandem status --control-socket \(server.path))")
        case .without(let why):
            (control, controlNote) = (nil, why)
        case .refused(let why):
            output.err("Keepalived_vrrp: \(why)")
            return 1
        }
        if let why = names.preparePidDirectory(for: pidFiles) { output.err("Keepalived_vrrp: \(why)") }
        // keepalived logs this and stops (exit 0 for its own file, a respawn loop for its
        // VRRP child's); Tandem refuses the start with exit 1 either way.
        for (n, path) in pidFiles.enumerated() where !PidFile.write(path) {
            output.err("pidfile_write : Cannot open \(path) pidfile")
            for written in pidFiles[..<n] { PidFile.remove(written) }
            names.removePidDirectory()
            return 1
        }
        defer {
            for path in pidFiles { PidFile.remove(path) }
            names.removePidDirectory()
        }
        // As keepalived: syslog unless -G, stderr only with -l. Start-up refusals above
        // went to stderr regardless, so a start that fails is never silent.
        let out = output
        func handlers(ident: String) -> [any LogHandler] {
            var handlers: [any LogHandler] = []
            if line.logConsole {
                handlers.append(LineLogHandler(format: { _, message in "\(ident)[\(getpid())]: \(message)" }, write: { out.err($0) }))
            }
            if line.syslog { handlers.append(SyslogLogHandler(facilityCode: line.syslogFacility, ident: ident)) }
            return handlers
        }
        // keepalived's parent says this under its own ident before its VRRP child starts;
        // Tandem, one process, says it under the parent's ident, then speaks as the child.
        if let change = names.identChange {
            Logger.tandem("keepalived", handlers: handlers(ident: KeepalivedNamespaceNames.parentIdent)).notice("\(change)")
        }
        let logger = Logger.tandem("keepalived", handlers: handlers(ident: names.syslogIdent))
        let log: (String) -> Void = { logger.notice("\($0)") }
        let daemon: KeepalivedDaemon
        do {
            daemon = try KeepalivedDaemon(configuration: config, logger: logger, shouldStop: shouldStop)
            daemon.releaseOnStop = line.releaseOnStop
        } catch {
            output.err("Keepalived_vrrp: \(error)")
            return 1
        }
        if let metricsServer { log("metrics on http://\(metricsServer.address)/metrics") }
        log(controlNote)
        daemon.control = control
        daemon.metrics = metricsServer?.feed()
        // keepalived tells systemd only when systemd is its parent; Tandem whenever
        // NOTIFY_SOCKET is set (unset it to keep Tandem quiet).
        let systemd = SystemdSession(enabled: true)
        defer { systemd.stopping() }
        daemon.run(onReady: { systemd.ready(status: "VRRP running") }, afterTurn: {
            for s in signals() {
                if s == .reload { systemd.reloading() }
                Self.act(on: s, daemon: daemon, file: file, configID: configID, namespaceOverride: line.namespace, line: line, log: log)
                if s == .reload { systemd.ready(status: "VRRP running (reloaded)") }
            }
            systemd.turn(now: Instant.now())
        })
        return 0
    }

    /// keepalived's answer to each of its signals: reload keeping state, or a dump into
    /// TMPDIR (spec §3.8, §3.9). `tandem run` answers them the same way.
    static func act(on s: DaemonSignal, daemon: KeepalivedDaemon, file: String, configID: String? = nil, namespaceOverride: String? = nil,
                    line: KeepalivedCommandLine? = nil, log: (String) -> Void) {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        switch s {
        case .reload:
            log("Reloading ...")
            do {
                let config = try KeepalivedConfigParser.parse(file: file, configID: configID ?? KeepalivedLineFilter.nodeName)
                for e in config.errors { log(e.description) }
                if let line { applyFileMask(config, line: line, log: log) }
                // The process cannot move: it stays where it is, as keepalived does, and
                // the rest of the file is taken.
                let running = getenv(namespaceMarker).map { String(cString: $0) }
                if (namespaceOverride ?? config.netNamespace) != running {
                    log("Cannot change network namespace at a reload - please restart Keepalived")
                }
                guard config.unsupported.isEmpty else {
                    for e in config.unsupported { log(e.description) }
                    log("reload refused, keeping the running configuration: it uses what tandem does not support")
                    return
                }
                // The scripts are looked at again, as at start: a reload must not bring in a
                // script keepalived would disable, nor lose the user each one runs as.
                let vetting = ScriptVetting(config)
                for l in vetting.logLines + vetting.errors + [vetting.securityViolation].compactMap({ $0 }) { log(l) }
                daemon.reload(vetting.vetted)
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

extension KeepalivedTool {
    enum ControlSocketOutcome {
        case opened(ControlServer)
        /// The default path could not be had: VRRP runs, status is not served (logged).
        case without(String)
        /// The operator's own path could not be had: the start fails.
        case refused(String)
    }

    /// The operator's `--control-socket` must work or the start fails; the default one is
    /// a convenience, so VRRP never fails to start over it (a keepalived swapped for
    /// Tandem must start where keepalived would), and its absence is logged.
    func openControlSocket(explicit: String?, line: KeepalivedCommandLine) -> ControlSocketOutcome {
        let path = explicit ?? ControlSocketOption.defaultPath(mainPidFile: line.mainPidFile)
        // Binding unlinks the path first: a live daemon's socket would be taken from it.
        if ControlServer.isAnswered(path: path) {
            let why = "control socket \(path): another daemon answers there"
            return explicit == nil ? .without(why + "; running without one (tandem status cannot reach this node; pass \(ControlSocketOption.flag))")
                                   : .refused(why)
        }
        do {
            return .opened(try ControlServer(path: path))
        } catch {
            let why = "control socket \(path): \(error)"
            return explicit == nil ? .without(why + "; running without one (tandem status cannot reach this node)") : .refused(why)
        }
    }
}

extension KeepalivedTool {
    /// global_defs' umask, as keepalived applies it while reading the file: -u on the
    /// command line wins, and keepalived says so.
    static func applyFileMask(_ config: KeepalivedConfiguration, line: KeepalivedCommandLine, log: (String) -> Void) {
        guard let mask = config.fileMask else { return }
        if line.fileMask != nil {
            log("umask command line option specified, ignoring config option")
            return
        }
        umask(mask)
        KeepalivedDaemon.fileMask = mode_t(mask)
    }
}
