#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import IPAddressing
import Daemon
import Timekeeping
import Logging
import MetricsEndpoint
import StateSync

/// `tandem conntrackd` and the `conntrackd` link: conntrackd 1.4.7's command line. With a
/// client option it sends that request code to the daemon's UNIX socket (Tandem's or
/// the C daemon's: same codes) and prints the answer; without one it runs the daemon.
/// `--check` only checks the configuration (`-t` keeps conntrackd's meaning).
public struct ConntrackdTool {
    let output: OutputSink
    let shouldStop: () -> Bool
    /// argv[0] as the user typed it (`-h` prints it, as conntrackd does).
    let programName: String

    public init(output: OutputSink, programName: String = "conntrackd", shouldStop: @escaping () -> Bool = { false }) {
        self.output = output
        self.programName = programName
        self.shouldStop = shouldStop
    }

    /// conntrackd 1.4.7's `-h`, line for line (scripts grep it).
    var help: String { """
    Connection tracking userspace daemon v1.4.7
    Usage: \(programName) [commands] [options]

    General commands:
      -d, run in daemon mode
      -C [configfile], configuration file path
      -v, display conntrackd version
      -h, display this help information

    Client mode commands:
      -c [ct|expect], commit external cache to conntrack table
      -f [internal|external], flush internal and external cache
      -F [ct|expect], flush kernel conntrack table
      -i [ct|expect], display content of the internal cache
      -e [ct|expect], display the content of the external cache
      -k, kill conntrack daemon
      -s  [network|cache|runtime|link|rsqueue|queue|ct|expect], dump statistics
      -R [ct|expect], resync with kernel conntrack table
      -n, request resync with other node (only FT-FW and NOTRACK modes)
      -B, force a bulk send to other replica firewalls
      -x, dump cache in XML format (requires -i or -e)
      -t, reset the kernel timeout (see PurgeTimeout clause)

    """ }

    /// Every flag `run` takes (docs/compatibility.md has a row for each).
    public static let flags = ["-d", "-C", "--config", "--check", "-h", "--help", "-v", "--version", "-c", "-f", "-F",
                               "-i", "-e", "-x", "-k", "-s", "-R", "-n", "-B", "-t"]

    static let subcommands = ["network", "cache", "runtime", "multicast", "link", "rsqueue", "process", "queue", "ct", "expect"]

    public func run(_ argv: [String]) -> Int32 {
        var file = "/etc/conntrackd/conntrackd.conf"
        var check = false
        var daemonize = false
        var code: Int32?
        var metricsAddress: ListenAddress?
        var keyFlags = SyncKeyFlags()
        var i = 0
        func optionalArgument() -> String? {
            guard i + 1 < argv.count, !argv[i + 1].hasPrefix("-") else { return nil }
            i += 1
            return argv[i]
        }
        while i < argv.count {
            let a = argv[i]
            switch a {
            case "-C", "--config":
                guard i + 1 < argv.count else { output.err("conntrackd: option -C needs a file name"); return 1 }
                file = argv[i + 1]
                i += 1
            case "--check": check = true
            case let k where k.hasPrefix(SyncKeyFlags.current):
                // Tandem's own (docs/sync-authentication.md): conntrackd has no authentication.
                switch keyFlags.read(argv, at: i) {
                case .read(let taking): i += taking - 1
                case .refused(let why): output.err("conntrackd: \(why)"); return 1
                case .notMine: output.err("Unknown option: \(k)"); return 0
                }
            case let m where m.hasPrefix(ListenAddress.flag):
                // Tandem's own: conntrackd 1.4.7 has no metrics endpoint.
                switch ListenAddress.readFlag(argv, at: i) {
                case .read(let address, let taking):
                    metricsAddress = address
                    i += taking - 1
                case .refused(let why):
                    output.err("conntrackd: \(why)")
                    return 1
                case .otherArgument:
                    // As any other unknown option (conntrackd's answer, exit 0).
                    output.err("Unknown option: \(m)")
                    return 0
                }
            case "-d": daemonize = true
            case "-h", "--help":
                output.out(help)
                return 0
            case "-v", "--version":
                output.out("Connection tracking userspace daemon v1.4.7 (tandem). Licensed under GPLv2.")
                return 0
            case "-i", "-e":
                let which = optionalArgument()
                let expect = which.map { "expect".hasPrefix($0) } ?? false
                code = a == "-i" ? (expect ? 40 : 16) : (expect ? 41 : 17)
            case "-x":
                guard let c = code, [16, 17, 40, 41].contains(c) else {
                    output.err("conntrackd: -x must follow -i or -e\nInvalid parameters")
                    return 1
                }
                code = [16: 24, 17: 25, 40: 47, 41: 48][c]
            case "-c":
                let which = optionalArgument()
                code = which == nil ? 46 : ("expect".hasPrefix(which!) ? 42 : 18)
            case "-f":
                switch optionalArgument() {
                case nil: code = 45
                case let w? where "internal".hasPrefix(w): code = 33
                case let w? where "external".hasPrefix(w): code = 34
                case let w?: output.err("conntrackd: unknown parameter `\(w)' for option `-f'"); return 1
                }
            case "-F": code = optionalArgument().map { "expect".hasPrefix($0) ? 38 : 0 } ?? 43
            case "-R": code = optionalArgument().map { "expect".hasPrefix($0) ? 39 : 1 } ?? 44
            case "-B": code = 22
            case "-n": code = 23
            case "-k": code = 20
            case "-t": code = 26
            case "-s":
                if let w = optionalArgument() {
                    guard let sub = Self.subcommands.first(where: { $0.hasPrefix(w) }) else {
                        output.err("conntrackd: unknown parameter `\(w)' for option `-s'")
                        return 1
                    }
                    if sub == "multicast" { output.err("WARNING: use `link' instead of `multicast' as parameter.") }
                    code = ["network": 28, "cache": 29, "runtime": 30, "multicast": 31, "link": 31, "rsqueue": 32,
                            "process": 35, "queue": 36, "ct": 21, "expect": 37][sub]
                } else {
                    code = 21
                }
            default:
                output.err("Unknown option: \(a)")
                return 0
            }
            i += 1
        }
        let config: ConntrackdConfiguration
        do {
            config = try ConntrackdConfigParser.parse(file: file)
        } catch {
            output.err(error.description)
            return 1
        }
        if keyFlags.isSet && code != nil {
            output.err("conntrackd: --sync-key is for the daemon; it is not supported with a client request")
            return 1
        }
        let syncKeys: SyncKeys?
        do {
            syncKeys = try keyFlags.load()
        } catch {
            output.err("conntrackd cannot start: \(error)")
            return 1
        }
        if metricsAddress != nil && (check || code != nil) {
            output.err("conntrackd: --metrics-listen is for the daemon; it is not supported with --check or a client request")
            return 1
        }
        // What Tandem does not do stops --check and the daemon; a client request only
        // needs the socket's path.
        if check || code == nil, !config.unsupported.isEmpty {
            for e in config.unsupported { output.err(e.description) }
            return 1
        }
        if check {
            for w in config.warnings { output.err(w.description) }
            output.out("\(file): configuration OK (\(config.isStatisticsMode ? "statistics" : (config.sync?.mode.rawValue ?? "")) mode)")
            return 0
        }
        if let code {
            guard let path = config.general.unixPath else {
                output.err("conntrackd: no UNIX socket Path in \(file)")
                return 1
            }
            do {
                let text = try ControlServer.request(path: path, code: code)
                if !text.isEmpty { output.outLine { $0.append(contentsOf: text.utf8); if $0.last == 10 { $0.removeLast() } } }
                return 0
            } catch {
                output.err("\(error)")
                return 1
            }
        }
        if daemonize {
            // Start ourselves again, detached, without -d: the caller (a notify script)
            // gets its prompt back as with conntrackd's fork.
            var rest = argv.filter { $0 != "-d" }
            rest.insert("conntrackd", at: 0)
            return Self.spawnDetached(["tandem"] + rest)
        }
        return runDaemon(config, metricsAddress: metricsAddress, syncKeys: syncKeys)
    }

    static func spawnDetached(_ argv: [String]) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(0x80)) // POSIX_SPAWN_SETSID
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, &cArgs, environ)
        return rc == 0 ? 0 : 1
    }

    func runDaemon(_ config: ConntrackdConfiguration, metricsAddress: ListenAddress? = nil, syncKeys: SyncKeys? = nil) -> Int32 {
        let lock: LockFile
        do {
            lock = try LockFile(config.general.lockFile)
        } catch {
            // conntrackd's words first (scripts match them), then who holds it.
            output.err("[ERROR] lockfile `\(config.general.lockFile)' exists, perhaps conntrackd already running?")
            if case .held = error { output.err("[ERROR] \(error)") }
            return 1
        }
        defer { lock.release() }
        var logFD: Int32 = -1
        if case .file(let path) = config.general.logFile { logFD = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) }
        defer { if logFD >= 0 { close(logFD) } }
        let out = output
        let file = logFD
        // conntrackd's line: "[Thu Dec  3 14:00:00 2026] (pid=N) [notice] message", on
        // stderr and in its LogFile.
        let lines = LineLogHandler(format: { _, message in
            var t = time(nil)
            var buffer = [CChar](repeating: 0, count: 32)
            ctime_r(&t, &buffer)
            return "[\(String(nulTerminated: buffer).trimmingNewline)] (pid=\(getpid())) [notice] \(message)"
        }, write: { line in
            if file >= 0 {
                var bytes = Array((line + "\n").utf8)
                _ = Glibc.write(file, &bytes, bytes.count)
            }
            out.err(line)
        })
        let syslog = SyslogLogHandler(facility: config.general.syslogFacility, ident: "conntrackd")
        let logger = Logger.tandem("conntrackd", handlers: [lines] + (syslog.map { [$0] } ?? []))
        let log: (String) -> Void = { logger.notice("\($0)") }
        if let pid = lock.tookOverFrom { log("took over the stale lockfile `\(lock.path)' of pid \(pid), no longer running") }
        for w in config.warnings { log("warning: \(w)") }
        if let scheduler = config.general.scheduler {
            log(RealtimeScheduler.apply(scheduler) ?? RealtimeScheduler.describe(scheduler))
        }
        // Listening is a start-up step: a port in use ends the start here.
        var metricsServer: MetricsServer?
        if let metricsAddress {
            do {
                metricsServer = try MetricsServer.start(metricsAddress)
            } catch {
                log("ERROR: --metrics-listen: \(error)")
                output.err("conntrackd cannot start: --metrics-listen: \(error)")
                return 1
            }
        }
        defer { metricsServer?.stop() }
        if let metricsServer { log("metrics on http://\(metricsServer.address)/metrics") }
        do {
            let daemon = try ConntrackdDaemon(config: config, logger: logger, shouldStop: shouldStop, syncKeys: syncKeys)
            daemon.metrics = metricsServer?.feed()
            let systemd = SystemdSession(enabled: config.general.systemd)
            defer { systemd.stopping() }
            try daemon.run(onReady: { systemd.ready(status: "synchronizing") }, afterTurn: { systemd.turn(now: Instant.now()) })
            return 0
        } catch {
            log("ERROR: \(error)")
            output.err("conntrackd cannot start, please review your configuration")
            return 1
        }
    }
}

extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
