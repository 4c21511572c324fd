#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Synchronization

/// Set by SIGINT/SIGTERM; long-running commands poll it.
let stopRequested = Atomic<Bool>(false)

func installStopSignals() {
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGINT)
    sigaddset(&unblock, SIGTERM)
    sigprocmask(SIG_UNBLOCK, &unblock, nil)
    let handler: @convention(c) (Int32) -> Void = { _ in stopRequested.store(true, ordering: .relaxed) }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
}

/// The daemons write to whatever stderr they were given: a reader that went away must cost
/// a log line, not the process (the default action of SIGPIPE). `tandem conntrack` keeps
/// the default, as conntrack(8) does: `tandem conntrack -L | head` ends quietly.
func ignoreBrokenPipes() {
    signal(SIGPIPE, SIG_IGN)
}

/// Busybox-style dispatch: the program name (a link called `conntrack`, `conntrackd` or
/// `keepalived`) or the first argument picks the personality.
public enum Entry {
    public static func main(_ argv: [String]) -> Int32 {
        let name = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? "tandem"
        let rest = Array(argv.dropFirst())
        switch name {
        case "conntrack": return runConntrack(rest)
        case "conntrackd": return runConntrackd(rest, programName: argv.first ?? "conntrackd")
        case "keepalived": return runKeepalived(rest, programName: argv.first ?? "keepalived")
        default: break
        }
        if let first = rest.first {
            switch first {
            case "conntrack": return runConntrack(Array(rest.dropFirst()))
            case "conntrackd": return runConntrackd(Array(rest.dropFirst()))
            case "keepalived": return runKeepalived(Array(rest.dropFirst()), programName: "tandem keepalived")
            case "run": return runNode(Array(rest.dropFirst()))
            case "lab": return LabTool.run(Array(rest.dropFirst()))
            case "status": return StatusTool(output: StandardOutput()).run(Array(rest.dropFirst()))
            default: break
            }
        }
        do {
            var command = try Tandem.parseAsRoot(rest)
            try command.run()
            return 0
        } catch {
            let code = Tandem.exitCode(for: error)
            if code == .success {
                print(Tandem.fullMessage(for: error))
            } else {
                StandardOutput().err(Tandem.fullMessage(for: error))
            }
            return code.rawValue
        }
    }

    static func runConntrack(_ args: [String]) -> Int32 {
        installStopSignals()
        let tool = ConntrackTool(output: StandardOutput()) { stopRequested.load(ordering: .relaxed) }
        return tool.run(args)
    }

    static func runConntrackd(_ args: [String], programName: String = "conntrackd") -> Int32 {
        installStopSignals()
        ignoreBrokenPipes()
        return ConntrackdTool(output: StandardOutput(), programName: programName) { stopRequested.load(ordering: .relaxed) }.run(args)
    }

    static func runKeepalived(_ args: [String], programName: String) -> Int32 {
        installStopSignals()
        ignoreBrokenPipes()
        installDaemonSignals()
        return KeepalivedTool(output: StandardOutput(), shouldStop: { stopRequested.load(ordering: .relaxed) },
                              signals: takeDaemonSignals).run(args, programName: programName)
    }

    static func runNode(_ args: [String]) -> Int32 {
        installStopSignals()
        ignoreBrokenPipes()
        installDaemonSignals()
        return RunTool(output: StandardOutput(), shouldStop: { stopRequested.load(ordering: .relaxed) }, signals: takeDaemonSignals).run(args)
    }
}

/// The `tandem` command itself. Personalities with a legacy command line of their own
/// (conntrack, conntrackd, keepalived) are dispatched before this parser sees them.
struct Tandem: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tandem",
        abstract: "Stateful firewall failover: VRRP and connection-state replication in one process.",
        discussion: """
        Personalities (also selected by linking the binary under that name):
          tandem conntrack ARGS     conntrack(8) 1.4.7 compatible table tool
          tandem conntrackd ARGS    conntrackd 1.4.7 compatible daemon (FTFW, NOTRACK, ALARM over UDP, Multicast or TCP; --check -C FILE)
          tandem keepalived ARGS    keepalived 2.2 VRRP compatible daemon (-f FILE, -t; HUP/USR1/USR2 like keepalived)
          tandem run [OPTIONS]      both in one process (--keepalived-config, --conntrackd-config)
          tandem status [-C FILE]   a running node's VRRP and sync state (--json)
          tandem lab COMMAND        the seed's two firewalls in namespaces: up, failover, status, down, demo, soak
        """,
        version: "0.1.0"
    )
}
