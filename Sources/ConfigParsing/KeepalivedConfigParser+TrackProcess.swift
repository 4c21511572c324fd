/// keepalived 2.2.7's vrrp_track_process (vrrp_parser.c, vrrp_tprocess_*): which
/// processes count, the quorum, and the delays before a gained or lost quorum counts.
extension KeepalivedConfigParser {
    mutating func trackProcess(_ n: Node) {
        guard let name = n.arguments.first?.text else { error("vrrp_track_process needs a name", n.keyword); return }
        var p = KeepalivedConfiguration.TrackProcess(name: name)
        var weightSet = false
        for c in n.children ?? [] {
            guard admit(c, in: "vrrp_track_process") else { continue }
            let a = c.arguments.map(\.text)
            switch c.keyword.text {
            case "process":
                guard let path = a.first else { error("vrrp_track_process \(name): process needs a name", c.keyword); continue }
                if p.process != nil { error("Process already set for track process \(name) - ignoring \(path)", c.arguments[0]); continue }
                p.process = path
                if a.count > 1 {
                    p.parameters = Array(a.dropFirst())
                    if p.parameterMatch == .none { p.parameterMatch = .exact }
                    p.fullCommand = true
                }
            case "param_match":
                switch a.first {
                case nil: p.parameterMatch = .exact
                case "initial": p.parameterMatch = .initial
                case "partial": p.parameterMatch = .partial
                case let other?: error("Invalid param_match type \(other) - ignoring", c.arguments[0]); continue
                }
                p.fullCommand = true
            case "weight":
                guard let w = a.first else { error("No weight specified for track process \(name) - ignoring", c.keyword); continue }
                if weightSet && p.weight != 0 { error("Weight already set for track process \(name) - ignoring \(w)", c.arguments[0]); continue }
                guard let x = Int(w), (-254...254).contains(x) else {
                    error("Weight (\(w)) for vrrp_track_process \(name) must be between [-254..254] inclusive. Ignoring...", c.arguments[0]); continue
                }
                if a.count > 1 {
                    if a[1] == "reverse" { p.reverse = true } else { error("vrrp_track_process \(name) unknown weight option \(a[1])", c.arguments[1]) }
                }
                p.weight = x
                weightSet = true
            case "quorum":
                guard let q = a.first.flatMap({ Int($0) }), (1...65535).contains(q) else {
                    error("Quorum (\(a.first ?? "")) for vrrp_track_process \(name) must be between [1..65535] inclusive. Ignoring...", c.arguments.first ?? c.keyword); continue
                }
                if q > p.quorumMax { error("Quorum is greater than quorum_max - ignoring", c.arguments[0]); continue }
                p.quorum = q
            case "quorum_max":
                guard let q = a.first.flatMap({ Int($0) }), (0...65535).contains(q) else {
                    error("quorum_max (\(a.first ?? "")) for vrrp_track_process \(name) must be between [0..65535] inclusive. Ignoring...", c.arguments.first ?? c.keyword); continue
                }
                // quorum_max 0 (no such process may run) is allowed when no quorum was set.
                if (q != 0 || p.quorum > 1) && q < p.quorum { error("quorum_max is less than quorum - ignoring", c.arguments[0]); continue }
                p.quorumMax = q
                if q == 0 { p.quorum = 0 } else if p.quorum == 0 { p.quorum = 1 }
            case "delay", "terminate_delay", "fork_delay":
                let prefix = c.keyword.text == "delay" ? "" : c.keyword.text == "fork_delay" ? "fork_" : "terminate_"
                guard let d = a.first.flatMap({ Double($0) }), d >= 0.000001, d <= 3600 else {
                    error("\(prefix)delay (\(a.first ?? "")) for vrrp_track_process \(name) must be between [0.000001..3600] inclusive. Ignoring...", c.arguments.first ?? c.keyword); continue
                }
                if c.keyword.text != "fork_delay" { p.terminateDelay = d }
                if c.keyword.text != "terminate_delay" { p.forkDelay = d }
            case "full_command": p.fullCommand = true
            default: error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        guard p.process != nil else { error("track process '\(name)' process name not specified", n.keyword); return }
        config.trackProcesses.append(p)
    }
}
