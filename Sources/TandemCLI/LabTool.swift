#if canImport(Glibc)
import Glibc
#endif
import Lab

/// `tandem lab SUBCOMMAND [options]`: parses the command line and runs the lab.
enum LabTool {
    static let usage = """
    usage: tandem lab SUBCOMMAND [--prefix P] [options]
      up        [--stack tandem-run|tandem-split|reference|mixed] [--no-sync] [--advert-int S]
                [--peer-view PORT] (tandem-run: both nodes' views of each other, docs/split-brain.md)
      failover  [--how stop|kill|link] [--failback] [--sessions N] [--push S] [--post S] [--flows N] [--plot FILE.svg]
      status
      down
      demo      [--stack …] [--how …] [--no-sync] [--sessions N] [--push S] [--post S] [--advert-int S] [--flows N]
                [--plot FILE.svg]
                (up, failover --failback and down in one; down always runs)
      soak      [--duration S] [--every S] [--rate N] [--lifetime S] [--min-age S] [--stall-limit S]
                [--link-down S] [--sessions N] [--push S] [--results FILE] [--meta JSON-FIELDS]
                (on a lab up with --stack tandem-run: churn on the master, a failover every S
                seconds — stop, kill, link in turn — sessions throughout; JSON lines to FILE;
                bench/soak.sh runs it and defines what it measures)
    The seed's two-firewall topology in network namespaces named P* (default tl-, or
    $TANDEM_LAB_PREFIX); state, configs and logs in /run/tandem-lab/P. Needs root.
    --flows N adds N established flows to fw1's table (replicated before the failover) and
    times how long the new master's kernel takes to hold them all.
    --plot FILE.svg draws the run: each session's messages over time, the failover's events
    as markers, each session's longest gap shaded (open it in a browser).
    """

    enum Subcommand: String, CaseIterable { case up, failover, status, down, demo, soak }

    struct Arguments {
        var subcommand: Subcommand
        var prefix: String
        var up = UpOptions()
        var failover = FailoverOptions()
        var soak = SoakOptions()
    }

    struct UsageError: Error { let message: String }

    static func parse(_ args: [String], environmentPrefix: String?) throws(UsageError) -> Arguments {
        var rest = args[...]
        var subcommand: Subcommand?
        var prefix = environmentPrefix.flatMap { $0.isEmpty ? nil : $0 } ?? "tl-"
        var up = UpOptions()
        var failover = FailoverOptions()
        var soak = SoakOptions()
        var seen: Set<String> = []
        func value(_ option: String) throws(UsageError) -> String {
            guard let v = rest.popFirst() else { throw UsageError(message: "\(option) needs a value") }
            return v
        }
        func number(_ option: String, _ range: ClosedRange<Double>) throws(UsageError) -> Double {
            let text = try value(option)
            guard let v = Double(text), range.contains(v) else {
                throw UsageError(message: "\(option) \(text): expected a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return v
        }
        while let a = rest.popFirst() {
            if !a.hasPrefix("-") {
                guard subcommand == nil else { throw UsageError(message: "unexpected argument '\(a)'") }
                guard let s = Subcommand(rawValue: a) else {
                    throw UsageError(message: "unknown subcommand '\(a)' (expected \(Subcommand.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                subcommand = s
                continue
            }
            seen.insert(a)
            switch a {
            case "--prefix": prefix = try value(a)
            case "--stack":
                let v = try value(a)
                guard let s = LabStack(rawValue: v) else {
                    throw UsageError(message: "--stack \(v): expected \(LabStack.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                up.stack = s
            case "--no-sync": up.sync = false
            case "--advert-int":
                let v = try number(a, 1...255)
                // VRRPv2 (the seed's) carries whole seconds.
                guard v == v.rounded() else { throw UsageError(message: "--advert-int \(v): VRRPv2 needs whole seconds") }
                up.advertInterval = v
            case "--peer-view": up.peerView = UInt16(try number(a, 1...65535))
            case "--how":
                let v = try value(a)
                guard let h = FailoverMethod(rawValue: v) else {
                    throw UsageError(message: "--how \(v): expected \(FailoverMethod.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                failover.how = h
            case "--failback": failover.failback = true
            case "--sessions": failover.sessions = Int(try number(a, 1...64)); soak.sessions = failover.sessions
            case "--push": failover.push = try number(a, 0...10); soak.push = failover.push
            case "--post": failover.post = try number(a, 2...300)
            case "--flows": failover.flows = Int(try number(a, 0...1_000_000))
            case "--plot": failover.plot = try value(a)
            case "--duration": soak.duration = try number(a, 10...86_400)
            case "--every": soak.every = try number(a, 10...3600)
            case "--rate": soak.rate = try number(a, 1...50_000)
            case "--lifetime": soak.lifetime = try number(a, 0.1...600)
            case "--min-age": soak.minAge = try number(a, 0...60)
            case "--stall-limit": soak.stallLimit = try number(a, 0.5...600)
            case "--link-down": soak.linkDown = try number(a, 0...600)
            case "--results": soak.results = try value(a)
            case "--meta": soak.meta = try value(a)
            case "-h", "--help": throw UsageError(message: "")
            default: throw UsageError(message: "unknown option \(a)")
            }
        }
        guard let subcommand else { throw UsageError(message: "missing subcommand") }
        let allowed: Set<String>
        switch subcommand {
        case .up: allowed = ["--prefix", "--stack", "--no-sync", "--advert-int", "--peer-view"]
        case .failover: allowed = ["--prefix", "--how", "--failback", "--sessions", "--push", "--post", "--flows", "--plot"]
        case .status, .down: allowed = ["--prefix"]
        case .demo: allowed = ["--prefix", "--stack", "--no-sync", "--advert-int", "--how", "--sessions", "--push", "--post", "--flows",
                               "--plot"]
        case .soak: allowed = ["--prefix", "--duration", "--every", "--rate", "--lifetime", "--min-age", "--stall-limit", "--link-down",
                               "--sessions", "--push", "--results", "--meta"]
        }
        if let wrong = seen.subtracting(allowed).sorted().first {
            throw UsageError(message: "\(wrong) does not apply to `tandem lab \(subcommand.rawValue)`")
        }
        if up.peerView != nil && up.stack != .tandemRun {
            throw UsageError(message: "--peer-view is a `tandem run` option: it needs --stack tandem-run")
        }
        if subcommand == .demo { failover.failback = true }
        return Arguments(subcommand: subcommand, prefix: prefix, up: up, failover: failover, soak: soak)
    }

    static func run(_ args: [String]) -> Int32 {
        let output = StandardOutput()
        let arguments: Arguments
        do {
            arguments = try parse(args, environmentPrefix: getenv("TANDEM_LAB_PREFIX").map { String(cString: $0) })
        } catch {
            if error.message.isEmpty {
                output.out(usage)
                output.flush()
                return 0
            }
            output.err("tandem lab: \(error.message)\n\(usage)")
            return 2
        }
        // A picture that cannot be written is known now, not after the run.
        if let plot = arguments.failover.plot, let problem = FailoverOptions.plotPathProblem(plot) {
            output.err("tandem lab: --plot \(plot): cannot write the picture there: \(problem)")
            return 2
        }
        installStopSignals()
        let console = LabConsole(out: { line in
            let o = StandardOutput()
            o.out(line)
            o.flush()
        }, err: { line in StandardOutput().err(line) })
        let interruption = Interruption { stopRequested.load(ordering: .relaxed) }
        do {
            let lab = try Lab(prefix: arguments.prefix, console: console, interruption: interruption)
            switch arguments.subcommand {
            case .up: try lab.up(arguments.up)
            case .down: try lab.down()
            case .status: try lab.status()
            case .failover: return try lab.failover(arguments.failover) ? 0 : 1
            case .demo: return demo(lab, arguments, output)
            case .soak: return try lab.soak(arguments.soak) ? 0 : 1
            }
            return 0
        } catch {
            output.err("tandem lab: \(error)")
            return 1
        }
    }

    /// up, failover with failback, down — down even if the others fail or are interrupted.
    static func demo(_ lab: Lab, _ arguments: Arguments, _ output: StandardOutput) -> Int32 {
        var status: Int32 = 1
        do {
            try lab.up(arguments.up)
            var failover = arguments.failover
            failover.keepResults = "/tmp/tandem-lab-demo-results.json"
            status = try lab.failover(failover) ? 0 : 1
        } catch {
            output.err("tandem lab: \(error)")
        }
        do {
            try lab.down()
        } catch {
            output.err("tandem lab: \(error)")
            status = 1
        }
        return status
    }
}
