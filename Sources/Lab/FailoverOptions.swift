/// How fw1 fails.
public enum FailoverMethod: String, CaseIterable, Sendable {
    /// SIGTERM to fw1's VRRP process: the seed's `systemctl stop keepalived`; it resigns
    /// with a priority-0 advert.
    case stop
    /// fw1 dies: SIGKILL to its daemons, then its switch ports down (a dead box keeps its
    /// VIPs configured; unplugging models it being powered off).
    case kill
    /// fw1's LAN and WAN cables are pulled at the switch; its daemons keep running.
    case link
}

/// What `tandem lab failover` measures.
public struct FailoverOptions: Sendable {
    public var how: FailoverMethod = .stop
    public var failback = false
    public var sessions = 4
    /// Seconds between the SSH-like server's unsolicited lines.
    public var push = 0.05
    /// Seconds to observe after each action.
    public var post: Double = 8
    /// Established flows added to fw1's table before the failover (replicated like any
    /// other), so the takeover commits a real table.
    public var flows = 0
    /// Where to keep results.json beyond `down` (the demo removes the state directory).
    public var keepResults: String?
    /// Where to draw the run as an SVG picture, if anywhere (checked before the lab starts).
    public var plot: String?
    public init() {}
}

extension FailoverOptions {
    /// Why the `--plot` path cannot take the picture (a missing directory, a directory, no
    /// permission), so the command refuses before the lab spends a minute on a run.
    public static func plotPathProblem(_ path: String) -> String? {
        guard !path.isEmpty else { return "empty path" }
        return FileSystem.writeProblem(path).map(errnoText)
    }
}
