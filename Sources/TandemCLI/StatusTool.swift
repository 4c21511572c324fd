import ConfigParsing
import Daemon

/// `tandem status`: asks a running `tandem run` (or `tandem conntrackd`) for its state
/// over the control socket named in conntrackd.conf.
public struct StatusTool {
    let output: OutputSink

    public init(output: OutputSink) { self.output = output }

    static let usage = """
        usage: tandem status [--conntrackd-config FILE] [--json]
        Shows the node's VRRP and replication state (its control socket is the UNIX Path of FILE).
          -C, --conntrackd-config FILE   the node's conntrackd.conf (default /etc/conntrackd/conntrackd.conf)
          --json                         one JSON document instead of text: schema tandem-status/1, see docs/status.md
        """

    public func run(_ argv: [String]) -> Int32 {
        var file = "/etc/conntrackd/conntrackd.conf"
        var json = false
        var i = 0
        while i < argv.count {
            switch argv[i] {
            case "--conntrackd-config", "-C":
                guard i + 1 < argv.count else { output.err("tandem status: \(argv[i]) needs a file"); return 64 }
                file = argv[i + 1]
                i += 1
            case "--json":
                json = true
            case "-h", "--help":
                output.out(Self.usage)
                return 0
            default:
                output.err("tandem status: unknown argument `\(argv[i])'")
                return 64
            }
            i += 1
        }
        let config: ConntrackdConfiguration
        do { config = try ConntrackdConfigParser.parse(file: file) } catch {
            output.err(error.description)
            return 1
        }
        guard let path = config.general.unixPath else {
            output.err("tandem status: \(file) names no UNIX socket Path")
            return 1
        }
        let request: ControlRequest = json ? .nodeStatusJSON : .nodeStatus
        let text: String
        do { text = try ControlServer.request(path: path, code: request.rawValue) } catch {
            output.err("tandem status: no daemon answers on \(path) (\(error)): is tandem run running?")
            return 1
        }
        guard !text.isEmpty else {
            // conntrackd, and a Tandem older than the code, drop a request they do not know.
            output.err(json ? "tandem status: the daemon on \(path) gave no JSON status: it is not Tandem (conntrackd 1.4.7?), "
                              + "or a Tandem without `status --json`"
                            : "tandem status: the daemon on \(path) gave no status: it is not Tandem (conntrackd 1.4.7?)")
            return 1
        }
        output.outLine { $0.append(contentsOf: text.utf8); if $0.last == 10 { $0.removeLast() } }
        return 0
    }
}
