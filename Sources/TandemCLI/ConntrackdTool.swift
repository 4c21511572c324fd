import ConfigParsing

/// `tandem conntrackd`. The daemon is not there yet; what works is checking a
/// configuration the way the daemon will read it: `--check -C FILE` prints the warnings
/// and either the first error (file:line:column) or "configuration OK".
/// (`-t` keeps conntrackd's meaning, a delayed kernel flush, once the daemon lands.)
public struct ConntrackdTool {
    let output: OutputSink

    public init(output: OutputSink) { self.output = output }

    public func run(_ argv: [String]) -> Int32 {
        var file = "/etc/conntrackd/conntrackd.conf"
        var check = false
        var i = 0
        while i < argv.count {
            switch argv[i] {
            case "-C", "--config":
                guard i + 1 < argv.count else {
                    output.err("conntrackd: option -C needs a file name")
                    return 1
                }
                file = argv[i + 1]
                i += 1
            case "--check": check = true
            case "-v", "--version":
                output.out("Connection tracking userspace daemon v1.4.7 (tandem)")
                return 0
            default:
                output.err("tandem conntrackd: `\(argv[i])' is not implemented yet (available: --check -C FILE)")
                return 1
            }
            i += 1
        }
        guard check else {
            output.err("tandem conntrackd: the daemon is not implemented yet (available: --check -C FILE)")
            return 1
        }
        do {
            let config = try ConntrackdConfigParser.parse(file: file)
            for w in config.warnings { output.err(w.description) }
            output.out("\(file): configuration OK (\(config.isStatisticsMode ? "statistics" : (config.sync?.mode.rawValue ?? "")) mode)")
            return 0
        } catch {
            output.err(error.description)
            return 1
        }
    }
}
