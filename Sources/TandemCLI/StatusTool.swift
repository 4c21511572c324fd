import ConfigParsing
import Daemon

/// `tandem status`: asks a running `tandem run` or `tandem conntrackd` (over the control
/// socket named in conntrackd.conf) or `tandem keepalived` (over its own socket) for its state.
public struct StatusTool {
    let output: OutputSink

    public init(output: OutputSink) { self.output = output }

    static let usage = """
        usage: tandem status [--conntrackd-config FILE | --control-socket PATH | --keepalived] [--json]
        Shows the node's VRRP and replication state.
          -C, --conntrackd-config FILE   tandem run / conntrackd: the socket is the UNIX Path of FILE
                                         (default /etc/conntrackd/conntrackd.conf)
          --control-socket PATH          ask the daemon on PATH (tandem keepalived's --control-socket)
          --keepalived                   tandem keepalived on its default socket, \(ControlSocketOption.defaultPath(mainPidFile: nil))
                                         (a daemon started with -p X.pid answers on X.ctl)
          --json                         one JSON document instead of text: schema tandem-status/2, see docs/status.md
        """

    public func run(_ argv: [String]) -> Int32 {
        var file: String?
        var socket: String?
        var json = false
        var i = 0
        while i < argv.count {
            switch argv[i] {
            case "--conntrackd-config", "-C", "--control-socket":
                guard i + 1 < argv.count else { output.err("tandem status: \(argv[i]) needs \(argv[i] == "--control-socket" ? "a path" : "a file")"); return 64 }
                if argv[i] == "--control-socket" { socket = argv[i + 1] } else { file = argv[i + 1] }
                i += 1
            case "--keepalived":
                socket = ControlSocketOption.defaultPath(mainPidFile: nil)
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
        if file != nil && socket != nil {
            output.err("tandem status: give either a conntrackd.conf or a control socket, not both")
            return 64
        }
        let path: String
        if let socket { path = socket } else {
            let file = file ?? "/etc/conntrackd/conntrackd.conf"
            let config: ConntrackdConfiguration
            do { config = try ConntrackdConfigParser.parse(file: file) } catch {
                output.err(error.description)
                return 1
            }
            guard let p = config.general.unixPath else {
                output.err("tandem status: \(file) names no UNIX socket Path")
                return 1
            }
            path = p
        }
        let request: ControlRequest = json ? .nodeStatusJSON : .nodeStatus
        let text: String
        do { text = try ControlServer.request(path: path, code: request.rawValue) } catch {
            output.err("tandem status: no daemon answers on \(path) (\(error)): is tandem running?")
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
