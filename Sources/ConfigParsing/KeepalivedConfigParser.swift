#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// keepalived.conf's line-oriented grammar (spec §5): blocks `keyword [args] {`,
/// `#`/`!` comments, double quotes, `include GLOB`. Like keepalived it tolerates
/// problems (unknown keywords, bad values) by recording them and carrying on; the
/// caller decides (`-t` fails on any error). Structural problems (unbalanced braces,
/// unreadable files) throw.
public struct KeepalivedConfigParser {
    /// A statement: a keyword, its arguments, and the block it opens, if any.
    public struct Node: Hashable, Sendable {
        public var keyword: Token
        public var arguments: [Token]
        public var children: [Node]?
    }

    public static func parse(file: String) throws(ConfigError) -> KeepalivedConfiguration {
        let nodes = try tree(file: file, depth: 0)
        var p = KeepalivedConfigParser(config: KeepalivedConfiguration(file: file))
        p.top(nodes)
        return p.config
    }

    public static func parse(_ text: String, file: String = "keepalived.conf") throws(ConfigError) -> KeepalivedConfiguration {
        let nodes = try tree(text: text, file: file, depth: 0)
        var p = KeepalivedConfigParser(config: KeepalivedConfiguration(file: file))
        p.top(nodes)
        return p.config
    }

    var config: KeepalivedConfiguration

    // MARK: tree

    static func tree(file: String, depth: Int) throws(ConfigError) -> [Node] {
        guard let text = readWholeFile(file) else {
            throw ConfigError("can't open configuration file: \(errnoText())", at: SourceLocation(file: file, line: 0, column: 0), token: "")
        }
        return try tree(text: text, file: file, depth: depth)
    }

    static func tree(text: String, file: String, depth: Int) throws(ConfigError) -> [Node] {
        let tokens = try Lexer(file: file, commentCharacters: ["#", "!"], allowsQuotes: true).tokenize(text)
        var i = 0
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        func block(_ opener: Token?) throws(ConfigError) -> [Node] {
            var nodes: [Node] = []
            while i < tokens.count {
                let t = tokens[i]
                if t.kind == .closeBrace {
                    guard opener != nil else { throw ConfigError("unexpected `}'", at: t.location, token: "}") }
                    i += 1
                    return nodes
                }
                if t.kind == .openBrace {
                    // A `{` alone: the block of the previous statement.
                    guard var last = nodes.popLast(), last.children == nil else {
                        throw ConfigError("`{' without a keyword", at: t.location, token: "{")
                    }
                    i += 1
                    last.children = try block(t)
                    nodes.append(last)
                    continue
                }
                // A statement runs to the end of its line or to a brace.
                var args: [Token] = []
                i += 1
                while i < tokens.count, !tokens[i].startsLine, tokens[i].kind == .word || tokens[i].kind == .quoted {
                    args.append(tokens[i])
                    i += 1
                }
                var node = Node(keyword: t, arguments: args, children: nil)
                if i < tokens.count, tokens[i].kind == .openBrace, !tokens[i].startsLine {
                    i += 1
                    node.children = try block(tokens[i - 1])
                }
                if t.text.hasPrefix("include") && t.kind == .word {
                    for pattern in args {
                        let path = pattern.text.hasPrefix("/") ? pattern.text : directory + "/" + pattern.text
                        guard depth < 16 else { throw ConfigError("includes nested too deeply", at: pattern.location, token: pattern.text) }
                        for match in Self.glob(path) { nodes += try tree(file: match, depth: depth + 1) }
                    }
                    continue
                }
                nodes.append(node)
            }
            if let opener { throw ConfigError("missing `}' for the block opened here", at: opener.location, token: "{") }
            return nodes
        }
        return try block(nil)
    }

    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }

    // MARK: interpretation

    mutating func warn(_ message: String, _ t: Token) { config.warnings.append(ConfigWarning(message, at: t.location)) }
    mutating func error(_ message: String, _ t: Token) { config.errors.append(ConfigError(message, at: t.location, token: t.text)) }

    mutating func top(_ nodes: [Node]) {
        for n in nodes {
            switch n.keyword.text {
            case "global_defs": globalDefs(n.children ?? [])
            case "vrrp_instance": instance(n)
            case "vrrp_sync_group": syncGroup(n)
            case "vrrp_script": script(n)
            case "virtual_server", "virtual_server_group":
                warn("`\(n.keyword.text)' (LVS) is not handled by tandem; block skipped", n.keyword)
            case "static_ipaddress", "static_routes", "static_rules", "garp_group", "track_file", "vrrp_track_process",
                 "track_group", "linkbeat_interfaces", "interface_up_down_delays", "bfd_instance", "instance",
                 "net_namespace", "use_pid_dir", "child_wait_time":
                warn("`\(n.keyword.text)' is accepted but not implemented by tandem yet", n.keyword)
            default:
                error("Unknown keyword '\(n.keyword.text)'", n.keyword)
            }
        }
    }

    mutating func globalDefs(_ nodes: [Node]) {
        for n in nodes {
            let a = n.arguments.map(\.text)
            switch n.keyword.text {
            case "router_id": config.routerID = a.first
            case "vrrp_version":
                if let v = a.first.flatMap(Int.init), v == 2 || v == 3 { config.vrrpVersion = v } else { error("vrrp_version must be 2 or 3", n.keyword) }
            case "vrrp_strict": config.strict = true
            case "vrrp_notify_fifo", "notify_fifo": config.notifyFifo = a.first
            case "vrrp_notify_fifo_script", "notify_fifo_script": config.notifyFifoScript = n.arguments.first?.text
            case "script_user": config.scriptUser = a.first
            case "enable_script_security": config.enableScriptSecurity = true
            default:
                // keepalived has many global_defs keywords; those not modelled are kept as warnings.
                warn("global_defs keyword `\(n.keyword.text)' is accepted but not used by tandem", n.keyword)
            }
        }
    }

    mutating func script(_ n: Node) {
        guard let name = n.arguments.first?.text else { error("vrrp_script needs a name", n.keyword); return }
        var s = KeepalivedConfiguration.Script(name: name)
        for c in n.children ?? [] {
            let a = c.arguments.map(\.text)
            switch c.keyword.text {
            case "script": s.command = a.joined(separator: " ")
            case "interval": s.interval = Double(a.first ?? "") ?? 1
            case "timeout": s.timeout = Double(a.first ?? "")
            case "weight":
                s.weight = Int(a.first ?? "") ?? 0
                if s.weight < -253 || s.weight > 253 { error("vrrp_script \(name): weight must be in -253..253", c.keyword); s.weight = 0 }
                s.reverse = a.dropFirst().first == "reverse"
            case "rise": s.rise = max(1, Int(a.first ?? "") ?? 1)
            case "fall": s.fall = max(1, Int(a.first ?? "") ?? 1)
            case "init_fail": s.initFail = true
            case "user": break
            default: error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        config.scripts.append(s)
    }

    /// `notify_* STRING|"QUOTED STRING" [username [groupname]]`: only the first token is
    /// the command (quote it to pass arguments); what follows names the user to run as.
    mutating func notify(_ c: Node, into n: inout KeepalivedConfiguration.Notify) -> Bool {
        guard ["notify_master", "notify_backup", "notify_fault", "notify_stop", "notify"].contains(c.keyword.text) else { return false }
        let command = c.arguments.first?.text ?? ""
        if c.arguments.count > 1 {
            let user = c.arguments[1]
            warn("`\(c.keyword.text)': `\(user.text)' is taken as the user to run the script as, as keepalived does"
                 + " (quote the command to pass it arguments); tandem runs notify scripts as its own user", user)
        }
        switch c.keyword.text {
        case "notify_master": n.master = command
        case "notify_backup": n.backup = command
        case "notify_fault": n.fault = command
        case "notify_stop": n.stop = command
        case "notify": n.generic = command
        default: return false
        }
        return true
    }

    mutating func syncGroup(_ n: Node) {
        guard let name = n.arguments.first?.text else { error("vrrp_sync_group needs a name", n.keyword); return }
        var g = KeepalivedConfiguration.SyncGroup(name: name)
        for c in n.children ?? [] {
            if c.keyword.text == "group" {
                // Every token of the block is a member name, several per line allowed.
                for m in c.children ?? [] { g.members += [m.keyword.text] + m.arguments.map(\.text) }
                continue
            }
            if notify(c, into: &g.notify) { continue }
            switch c.keyword.text {
            case "track_interface": g.trackInterfaces += tracked(c.children ?? [])
            case "track_script": g.trackScripts += tracked(c.children ?? [])
            case "sync_group_tracking_weight": g.trackingWeight = true
            case "smtp_alert", "global_tracking", "notify_priority_changes": break
            default: error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        config.syncGroups.append(g)
    }

    mutating func virtualAddress(_ n: Node) -> KeepalivedConfiguration.VirtualAddress? {
        let parts = n.keyword.text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = IPAddress(parts[0]) else { error("invalid address `\(n.keyword.text)'", n.keyword); return nil }
        let full = address.family == AddressFamily.inet ? 32 : 128
        var v = KeepalivedConfiguration.VirtualAddress(address: address, prefix: parts.count == 2 ? (Int(parts[1]) ?? -1) : full)
        if v.prefix < 0 || v.prefix > full { error("invalid prefix in `\(n.keyword.text)'", n.keyword); return nil }
        var i = 0
        let a = n.arguments
        while i < a.count {
            let key = a[i].text
            let value = i + 1 < a.count ? a[i + 1].text : nil
            switch key {
            case "dev": v.device = value; i += 2
            case "brd", "broadcast": v.broadcast = value; i += 2
            case "scope": v.scope = value; i += 2
            case "label": v.label = value; i += 2
            case "no_track", "home", "-nodad", "nodad", "noprefixroute", "autojoin": i += 1
            case "preferred_lft", "valid_lft": i += 2
            default: error("unknown virtual_ipaddress option `\(key)'", a[i]); i += 1
            }
        }
        return v
    }

    mutating func tracked(_ nodes: [Node]) -> [KeepalivedConfiguration.Tracked] {
        nodes.map { c in
            var t = KeepalivedConfiguration.Tracked(name: c.keyword.text)
            if let i = c.arguments.firstIndex(where: { $0.text == "weight" }), i + 1 < c.arguments.count {
                t.weight = Int(c.arguments[i + 1].text)
                if t.weight == nil { error("bad weight", c.arguments[i + 1]) }
            }
            t.reverse = c.arguments.contains { $0.text == "reverse" }
            return t
        }
    }

    mutating func instance(_ n: Node) {
        guard let name = n.arguments.first?.text else { error("vrrp_instance needs a name", n.keyword); return }
        var v = KeepalivedConfiguration.Instance(name: name, location: n.keyword.location)
        for c in n.children ?? [] {
            let a = c.arguments
            let first = a.first?.text
            func int(_ range: ClosedRange<Int>) -> Int? {
                guard let s = first, let x = Int(s), range.contains(x) else {
                    error("`\(c.keyword.text)' needs a number in \(range.lowerBound)–\(range.upperBound)", a.first ?? c.keyword)
                    return nil
                }
                return x
            }
            func seconds(_ range: ClosedRange<Double>) -> Double? {
                guard let s = first, let x = Double(s), range.contains(x) else {
                    error("`\(c.keyword.text)' needs seconds in \(range.lowerBound)–\(range.upperBound)", a.first ?? c.keyword)
                    return nil
                }
                return x
            }
            if notify(c, into: &v.notify) { continue }
            switch c.keyword.text {
            case "state":
                if first == "MASTER" || first == "BACKUP" { v.initialState = first! } else { error("unknown state `\(first ?? "")', using BACKUP", a.first ?? c.keyword) }
            case "interface": v.interface = first
            case "virtual_router_id": v.virtualRouterID = int(1...255)
            case "priority": v.priority = int(1...255)
            case "advert_int": if let s = seconds(0.01...255) { v.advertisementInterval = s }
            case "version": v.version = int(2...3)
            case "authentication":
                for x in c.children ?? [] {
                    switch x.keyword.text {
                    case "auth_type": v.authenticationType = x.arguments.first?.text
                    case "auth_pass":
                        let p = x.arguments.first?.text ?? ""
                        if p.utf8.count > 8 { warn("auth_pass is longer than 8 characters, truncated", x.keyword) }
                        v.authenticationPassword = String(decoding: p.utf8.prefix(8), as: UTF8.self)
                    default: error("Unknown keyword '\(x.keyword.text)'", x.keyword)
                    }
                }
            case "unicast_src_ip": v.unicastSource = first.flatMap(IPAddress.init)
            case "mcast_src_ip": v.multicastSource = first.flatMap(IPAddress.init)
            case "unicast_peer":
                for p in c.children ?? [] {
                    guard let addr = IPAddress(p.keyword.text) else { error("invalid unicast peer", p.keyword); continue }
                    var peer = KeepalivedConfiguration.UnicastPeer(address: addr)
                    var i = 0
                    while i + 1 < p.arguments.count {
                        if p.arguments[i].text == "min_ttl" { peer.minTTL = Int(p.arguments[i + 1].text) }
                        if p.arguments[i].text == "max_ttl" { peer.maxTTL = Int(p.arguments[i + 1].text) }
                        i += 2
                    }
                    v.unicastPeers.append(peer)
                }
            case "virtual_ipaddress": v.virtualAddresses += (c.children ?? []).compactMap { virtualAddress($0) }
            case "virtual_ipaddress_excluded": v.excludedAddresses += (c.children ?? []).compactMap { virtualAddress($0) }
            case "virtual_routes": v.virtualRoutes += (c.children ?? []).map { [$0.keyword.text] + $0.arguments.map(\.text) }
            case "nopreempt": v.noPreempt = true
            case "preempt": v.noPreempt = false
            case "preempt_delay": if let s = seconds(0...1000) { v.preemptDelay = s }
            case "garp_master_delay": if let s = seconds(0...Double(Int32.max)) { v.garpMasterDelay = s }
            case "garp_master_repeat": if let x = int(1...Int(Int32.max)) { v.garpMasterRepeat = x }
            case "garp_master_refresh": if let s = seconds(0...Double(Int32.max)) { v.garpMasterRefresh = s }
            case "garp_master_refresh_repeat": if let x = int(1...Int(Int32.max)) { v.garpMasterRefreshRepeat = x }
            case "track_interface": v.trackInterfaces += tracked(c.children ?? [])
            case "track_script": v.trackScripts += tracked(c.children ?? [])
            case "notify_fifo": v.notifyFifo = first
            case "dont_track_primary": v.dontTrackPrimary = true
            case "accept", "no_accept", "check_unicast_src", "unicast_fault_no_peer", "smtp_alert",
                 "lower_prio_no_advert", "higher_prio_send_advert", "skip_check_adv_addr", "strict_mode", "unicast_ttl",
                 "mcast_dst_ip", "old_unicast_checksum", "track_src_ip", "down_timer_adverts", "garp_lower_prio_delay",
                 "garp_lower_prio_repeat", "promote_secondaries", "debug", "notify_priority_changes", "use_vmac",
                 "vmac_xmit_base", "use_vmac_addr", "kernel_rx_buf_size", "vrf", "virtual_rules", "track_file",
                 "track_process", "track_bfd":
                v.unknown.append(c.keyword.text)
            default:
                error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        if v.virtualRouterID == nil { error("vrrp_instance \(name): virtual_router_id is required", n.keyword) }
        if v.interface == nil && v.unicastSource == nil { error("vrrp_instance \(name): interface is required", n.keyword) }
        if v.effectiveVersion == 3, v.authenticationType != nil {
            warn("VRRP version 3 does not support authentication. Ignoring.", n.keyword)
            v.authenticationType = nil
            v.authenticationPassword = nil
        }
        if let t = v.authenticationType, t != "PASS" && t != "AH" {
            error("(\(name)) unknown auth_type `\(t)', authentication ignored", n.keyword)
            v.authenticationType = nil
        }
        if v.authenticationType == "AH" && v.virtualAddresses.first?.address.family == AddressFamily.inet6 {
            warn("(\(name)) AH authentication is IPv4 only. Ignoring.", n.keyword)
            v.authenticationType = nil
        }
        if v.authenticationType == "AH" && v.initialState == "MASTER" && v.effectivePriority != 255 {
            // An AH sender must first learn the sequence numbers in use (keepalived).
            warn("(\(name)) Initial state master is incompatible with AH authentication - clearing", n.keyword)
            v.priority = v.effectivePriority
            v.initialState = "BACKUP"
        }
        if v.noPreempt && v.initialState == "MASTER" {
            // keepalived clears nopreempt for a MASTER-configured instance, with a warning.
            warn("(\(name)) Warning - nopreempt will not work with initial state MASTER - clearing", n.keyword)
            v.noPreempt = false
        }
        config.instances.append(v)
    }
}
