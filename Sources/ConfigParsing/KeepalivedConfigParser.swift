#if canImport(Glibc)
import Glibc
#endif
import IPAddressing
import Netlink

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

    /// `configID` picks the `@id` lines (keepalived's `-i`; by default the node name).
    /// `links`: the host's links, asked for only when a VMAC is to be named (keepalived
    /// names it around the links there).
    public static func parse(file: String, configID: String? = KeepalivedLineFilter.nodeName,
                             links: @escaping () throws -> [LinkDescription] = hostLinks) throws(ConfigError) -> KeepalivedConfiguration {
        var lines = KeepalivedLineFilter(configID: configID)
        let nodes = try tree(file: file, depth: 0, lines: &lines)
        return interpret(nodes, file: file, lines: lines, links: links)
    }

    public static func parse(_ text: String, file: String = "keepalived.conf", configID: String? = KeepalivedLineFilter.nodeName,
                             links: @escaping () throws -> [LinkDescription] = hostLinks) throws(ConfigError) -> KeepalivedConfiguration {
        var lines = KeepalivedLineFilter(configID: configID)
        let nodes = try tree(text: text, file: file, depth: 0, lines: &lines)
        return interpret(nodes, file: file, lines: lines, links: links)
    }

    static func interpret(_ nodes: [Node], file: String, lines: KeepalivedLineFilter, links: @escaping () throws -> [LinkDescription]) -> KeepalivedConfiguration {
        var p = KeepalivedConfigParser(config: KeepalivedConfiguration(file: file), linkSource: links)
        p.config.unsupported = lines.unsupported
        p.config.errors = lines.errors
        p.top(nodes)
        return p.config
    }

    var config: KeepalivedConfiguration
    let linkSource: () throws -> [LinkDescription]
    /// The host's links once asked for.
    var knownLinks: [LinkDescription]?
    /// Each sync group's member names as written, checked once every instance is known.
    var syncMembers: [(group: String, member: Token)] = []
    /// Where each static address, route and rule was written (parallel to the
    /// configuration's lists), for what the track groups' resolution says about them.
    var staticAddressLocations: [SourceLocation] = []
    var staticRouteLocations: [SourceLocation] = []
    var staticRuleLocations: [SourceLocation] = []
    /// The interface the first static address without `dev` went on (keepalived's
    /// default_ifp, looked up once).
    var usedDefaultInterface: String?
    /// The next preference given to a rule written without one, by address family.
    var nextRulePriority: [UInt8: UInt32] = [:]
    /// global_defs' script_user as looked up, and where it was written.
    var scriptUser: (lookup: Result<ScriptUser, ScriptUser.LookupFailure>, at: Token)?
    typealias Notify = KeepalivedConfiguration.Notify
    /// Where global_defs' vrrp_strict was written.
    var strictToken: Token?
    /// Each instance's lower/higher-priority options as written, by instance name.
    var writtenAdvertOptions: [String: WrittenAdvertOptions] = [:]

    // MARK: tree

    static func tree(file: String, depth: Int, lines: inout KeepalivedLineFilter) throws(ConfigError) -> [Node] {
        guard let text = readWholeFile(file) else {
            throw ConfigError("can't open configuration file: \(errnoText())", at: SourceLocation(file: file, line: 0, column: 0), token: "")
        }
        return try tree(text: text, file: file, depth: depth, lines: &lines)
    }

    static func tree(text: String, file: String, depth: Int, lines: inout KeepalivedLineFilter) throws(ConfigError) -> [Node] {
        let tokens = try Lexer(file: file, commentCharacters: ["#", "!"], allowsQuotes: true).tokenize(lines.apply(text, file: file))
        var i = 0
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        // With a `}' missing, the error surfaces only at the end of the file, on the outermost
        // block; the first `}' indented unlike the statement it closes points at the block
        // that really lost its brace, so that is the line named.
        var misindented: (keyword: Token, brace: Token)?
        func block(_ opener: Token?, _ keyword: Token?) throws(ConfigError) -> [Node] {
            var nodes: [Node] = []
            while i < tokens.count {
                let t = tokens[i]
                if t.kind == .closeBrace {
                    guard opener != nil else { throw ConfigError("unexpected `}'", at: t.location, token: "}") }
                    if misindented == nil, let keyword, t.location.line != keyword.location.line,
                       t.location.column != keyword.location.column {
                        misindented = (keyword, t)
                    }
                    i += 1
                    return nodes
                }
                if t.kind == .openBrace {
                    // A `{` alone: the block of the previous statement.
                    guard var last = nodes.popLast(), last.children == nil else {
                        throw ConfigError("`{' without a keyword", at: t.location, token: "{")
                    }
                    i += 1
                    last.children = try block(t, last.keyword)
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
                    node.children = try block(tokens[i - 1], t)
                } else if t.kind == .word, Self.blockKeywords.contains(t.text), !(i < tokens.count && tokens[i].kind == .openBrace) {
                    // Read on, the lines meant for the block would land in the enclosing one and
                    // the error would surface at some later `}'.
                    throw ConfigError("`\(t.text)' opens a block: `{' expected", at: t.location, token: t.text)
                }
                // `include` and keepalived's `includet` (global_defs has an include_check).
                if (t.text == "include" || t.text == "includet") && t.kind == .word {
                    for pattern in args {
                        let path = pattern.text.hasPrefix("/") ? pattern.text : directory + "/" + pattern.text
                        guard depth < 16 else { throw ConfigError("includes nested too deeply", at: pattern.location, token: pattern.text) }
                        for match in Self.glob(path) { nodes += try tree(file: match, depth: depth + 1, lines: &lines) }
                    }
                    continue
                }
                nodes.append(node)
            }
            if let opener {
                if let m = misindented {
                    throw ConfigError("missing `}' for the block opened here (the `}' on line \(m.brace.location.line) is indented as for an outer block)",
                                      at: m.keyword.location, token: m.keyword.text)
                }
                throw ConfigError("missing `}' for the block opened here", at: opener.location, token: "{")
            }
            return nodes
        }
        return try block(nil, nil)
    }

    /// Keywords whose values are a `{ … }' block, never a word on their own line.
    public static let blockKeywords: Set<String> = [
        "global_defs", "vrrp_instance", "vrrp_sync_group", "vrrp_script", "group", "authentication",
        "unicast_peer", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules",
        "static_ipaddress", "static_routes", "static_rules",
        "track_interface", "track_script", "track_file", "vrrp_track_file", "track_process", "vrrp_track_process",
        "track_group",
    ]

    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }

    // MARK: interpretation

    mutating func warn(_ message: String, _ t: Token) { config.warnings.append(ConfigWarning(message, at: t.location)) }
    mutating func error(_ message: String, _ t: Token) { config.errors.append(ConfigError(message, at: t.location, token: t.text)) }
    /// keepalived reports these as configuration errors (`-t` exits 5) and runs anyway.
    mutating func tolerate(_ message: String, _ t: Token) {
        config.toleratedErrors.append(ConfigError(message, at: t.location, token: t.text))
    }
    mutating func unsupported(_ what: String, _ t: Token) {
        config.unsupported.append(ConfigError("\(what) is not supported by tandem", at: t.location, token: t.text))
    }

    mutating func top(_ nodes: [Node]) {
        for n in nodes {
            guard admit(n, in: KeepalivedKeywords.topLevel) else { continue }
            switch n.keyword.text {
            case "global_defs": globalDefs(n.children ?? [])
            case "vrrp_instance": instance(n)
            case "vrrp_sync_group": syncGroup(n)
            case "vrrp_script": script(n)
            case "static_ipaddress": staticAddresses(n)
            case "static_routes": staticRoutes(n)
            case "static_rules": staticRules(n)
            case "track_group": staticTrackGroup(n)
            case "track_file", "vrrp_track_file": trackFile(n)
            case "vrrp_track_process": trackProcess(n)
            // keepalived keeps the first and reports the others.
            case "net_namespace":
                if let name = n.arguments.first?.text {
                    if config.netNamespace == nil {
                        config.netNamespace = name
                        config.netNamespaceLocation = n.keyword.location
                    } else { tolerate("Duplicate net_namespace definition \(name) - ignoring", n.arguments[0]) }
                } else {
                    tolerate("net_namespace name missing - ignoring", n.keyword)
                }
            default: error("Unknown keyword '\(n.keyword.text)'", n.keyword)
            }
        }
        finish()
    }

    /// Whether a statement is one to interpret: a keyword Tandem refuses is recorded as
    /// unsupported, a part of keepalived Tandem leaves out gets its one warning, and a
    /// word keepalived does not know either is reported as keepalived reports it.
    mutating func admit(_ n: Node, in block: String) -> Bool {
        let name = n.keyword.text
        switch KeepalivedKeywords.status(of: name, in: block) {
        case .actedOn?:
            return true
        case .refused?:
            unsupported("`\(name)'" + (block == KeepalivedKeywords.topLevel ? "" : " in \(block)"), n.keyword)
        case .outOfScope?:
            let what = n.children != nil ? "block `\(name)\(n.arguments.first.map { " " + $0.text } ?? "")'" : "`\(name)'"
            warn("\(what) is outside tandem's scope (keepalived's LVS, BFD, SMTP, SNMP and DBus parts): skipped", n.keyword)
        case nil:
            error("Unknown keyword '\(name)'", n.keyword)
        }
        return false
    }

    /// Defaults keepalived applies once every instance is read.
    mutating func finish() {
        applyStrictMode()
        // keepalived drops a member it cannot find, and an instance can be in one group only.
        let known = Set(config.instances.map(\.name))
        var seen: [String: String] = [:]
        for (group, member) in syncMembers {
            if !known.contains(member.text) {
                error("Virtual router \(member.text) specified in sync group \(group) doesn't exist", member)
            } else if let first = seen[member.text] {
                error("Virtual router \(member.text) is already in sync group \(first)", member)
            } else {
                seen[member.text] = group
            }
        }
        assignDefaultScriptUser()
        for i in config.instances.indices {
            config.instances[i].defaultVersion = config.vrrpVersion
            if config.checkUnicastSource { config.instances[i].checkUnicastSource = true }
            config.instances[i].multicastGroup4 = config.multicastGroup4
            config.instances[i].multicastGroup6 = config.multicastGroup6
            let v = config.instances[i]
            if v.effectiveVersion == 3, v.authenticationType != nil {
                warn("(\(v.name)) VRRP version 3 does not support authentication. Ignoring.", Token(kind: .word, text: v.name, location: v.location, startsLine: true))
                config.instances[i].authenticationType = nil
                config.instances[i].authenticationPassword = nil
            }
        }
        moveExcessAddresses()
        nameVMACs()
        dropPromoteSecondariesOnVMACs()
        resolveNotifyPriorityChanges()
        resolveStaticTrackGroups()
        for i in config.instances.indices {
            var v = config.instances[i]
            resolveGARPExtra(&v)
            config.instances[i] = v
        }
    }

    mutating func globalDefs(_ nodes: [Node]) {
        for n in nodes {
            guard admit(n, in: "global_defs") else { continue }
            let a = n.arguments.map(\.text)
            func number(_ range: ClosedRange<Double>) -> Double? {
                guard let s = a.first, let x = Double(s), range.contains(x) else {
                    error("`\(n.keyword.text)' needs a number in \(range.lowerBound)–\(range.upperBound)", n.arguments.first ?? n.keyword)
                    return nil
                }
                return x
            }
            if globalAdvertOption(n) || globalGARPPacing(n) || vmacPrefix(n) || globalNotice(n) { continue }
            switch n.keyword.text {
            case "router_id": config.routerID = a.first
            case "vrrp_version":
                if let v = a.first.flatMap(Int.init), v == 2 || v == 3 { config.vrrpVersion = v } else { error("vrrp_version must be 2 or 3", n.keyword) }
            case "vrrp_notify_fifo", "notify_fifo": config.notifyFifo = a.first
            case "vrrp_notify_fifo_script", "notify_fifo_script":
                config.notifyFifoScript = n.arguments.first.flatMap(Self.commandLine)
                if let user = scriptUserWords(n, kind: "notify_fifo", command: a.first ?? "") {
                    config.notifyFifoScriptUser = user
                } else if n.arguments.count > 1 {
                    config.notifyFifoScript = nil
                }
            case "enable_script_security": config.enableScriptSecurity = true
            case "vrrp_strict":
                config.strict = true
                strictToken = n.keyword
            case "nftables", "vrrp_iptables", "nftables_priority", "nftables_counters", "nftables_ifindex": firewallSetting(n)
            case "script_user":
                guard let name = a.first else { error("No script username specified", n.keyword); continue }
                let lookup = ScriptUser.resolve(name, group: a.dropFirst().first)
                if case .failure(let f) = lookup {
                    warn(f.message, n.arguments[0])
                    error("Error setting global script uid/gid", n.keyword)
                }
                if a.count > 2 { warn("`script_user' takes a user and a group; `\(a[2])' and what follows are ignored, as keepalived does", n.arguments[2]) }
                scriptUser = (lookup, n.keyword)
            case "vrrp_check_unicast_src": config.checkUnicastSource = true
            case "vrrp_skip_check_adv_addr": config.skipCheckAdvertAddresses = true
            case "vrrp_mcast_group4", "vrrp_mcast_group6":
                let v6 = n.keyword.text.hasSuffix("6")
                guard let g = a.first.flatMap(IPAddress.init), g.isMulticast, (g.family == AddressFamily.inet6) == v6 else {
                    error("`\(n.keyword.text)' needs an IPv\(v6 ? 6 : 4) multicast address", n.arguments.first ?? n.keyword); continue
                }
                if v6 { config.multicastGroup6 = g } else { config.multicastGroup4 = g }
            // keepalived copies these into each instance as it is created, so they reach
            // only the instances that follow global_defs in the file.
            case "vrrp_garp_master_delay": if let x = number(0...Double(Int32.max)) { config.garpDefaults.delay = x }
            case "vrrp_garp_master_repeat": if let x = number(1...Double(Int32.max)) { config.garpDefaults.repeats = Int(x) }
            case "vrrp_garp_master_refresh": if let x = number(0...Double(Int32.max)) { config.garpDefaults.refresh = x }
            case "vrrp_garp_master_refresh_repeat": if let x = number(1...Double(Int32.max)) { config.garpDefaults.refreshRepeats = Int(x) }
            // keepalived takes 1 ms and more; without the keyword there is no delay.
            case "vrrp_startup_delay":
                guard let s = a.first, let x = Double(s), x >= 0.001, x <= Double(UInt32.max) / 1_000_000 else {
                    error("vrrp_startup_delay '\(a.first ?? "")' is invalid", n.arguments.first ?? n.keyword); continue
                }
                config.startupDelay = x
            case "vrrp_priority":
                guard let s = a.first else { error("No vrrp process priority specified", n.keyword); continue }
                guard let x = Int32(s), (-20...19).contains(x) else { error("Invalid vrrp process priority specified", n.arguments[0]); continue }
                config.processPriority = x
            case "vrrp_no_swap": config.lockedInMemory = true
            case "default_interface":
                guard let name = a.first else { tolerate("default_interface requires interface name", n.keyword); continue }
                config.defaultInterface = name
            case "vrrp_cpu_affinity": cpuAffinity(n)
            case "umask": fileMask(n)
            default: error("Unknown keyword '\(n.keyword.text)'", n.keyword)
            }
        }
    }

    mutating func script(_ n: Node) {
        guard let name = n.arguments.first?.text else { error("vrrp_script needs a name", n.keyword); return }
        var s = KeepalivedConfiguration.Script(name: name)
        var removed = false
        for c in n.children ?? [] {
            guard admit(c, in: "vrrp_script") else { continue }
            let a = c.arguments.map(\.text)
            switch c.keyword.text {
            case "script":
                // keepalived reads the line once with its quoting rules and takes the first
                // word as the whole command line, which it splits again when it runs it: a
                // command with arguments is quoted, and its backslashes are read twice.
                if let w = c.arguments.first { s.command = Self.commandLine(w) }
                if c.arguments.count > 1 {
                    warn("`script' takes one word; `\(a[1])' and what follows are ignored, as keepalived does (quote the command to pass it arguments)", c.arguments[1])
                }
            case "interval": s.interval = Double(a.first ?? "") ?? 1
            case "timeout": s.timeout = Double(a.first ?? "")
            case "weight":
                s.weight = Int(a.first ?? "") ?? 0
                if s.weight < -253 || s.weight > 253 { error("vrrp_script \(name): weight must be in -253..253", c.keyword); s.weight = 0 }
                s.reverse = a.dropFirst().first == "reverse"
            case "rise": s.rise = max(1, Int(a.first ?? "") ?? 1)
            case "fall": s.fall = max(1, Int(a.first ?? "") ?? 1)
            case "init_fail": s.initFail = true
            case "user":
                guard let name = a.first else { error("`user' needs a user name", c.keyword); removed = true; continue }
                switch ScriptUser.resolve(name, group: a.dropFirst().first) {
                case .success(let u):
                    s.user = u
                    removed = false
                case .failure(let f):
                    // keepalived leaves the script out, with its reason and the error.
                    warn(f.message, c.arguments[0])
                    error("Unable to set uid/gid for script \(s.command ?? "")", c.keyword)
                    removed = true
                }
                if a.count > 2 { warn("`user' takes a user and a group; `\(a[2])' and what follows are ignored, as keepalived does", c.arguments[2]) }
            default: error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        if removed { return }
        config.scripts.append(s)
    }

    /// The words after a notify command: the user (and group) to run it as. nil when there
    /// are none, or when they name no one — keepalived then logs it and leaves the command
    /// out (not a configuration error).
    mutating func scriptUserWords(_ c: Node, kind: String, command: String) -> ScriptUser? {
        guard c.arguments.count > 1 else { return nil }
        let words = c.arguments.dropFirst().map(\.text)
        switch ScriptUser.resolve(words[0], group: words.dropFirst().first) {
        case .success(let u):
            if words.count > 2 {
                warn("`\(c.keyword.text)' takes a command, a user and a group; `\(words[2])' and what follows are ignored, as keepalived does (quote the command to pass it arguments)", c.arguments[3])
            }
            return u
        case .failure(let f):
            warn(f.message, c.arguments[1])
            warn("Invalid user/group for \(kind) script \(ScriptCommand.argv(command).first ?? command) - ignoring", c.arguments[1])
            return nil
        }
    }

    /// keepalived's default script user, given to every script that names none: a script
    /// left without one (script_user names no one, or enable_script_security on a host
    /// with no keepalived_script user) is left out, as keepalived leaves it out.
    mutating func assignDefaultScriptUser() {
        let scripted = config.scripts.contains { $0.command != nil && $0.user == nil }
            || (config.notifyFifoScript != nil && config.notifyFifoScriptUser == nil)
            || config.instances.contains { v in Notify.Slot.allCases.contains { v.notify[$0] != nil && v.notify.runAs[$0] == nil } }
            || config.syncGroups.contains { g in Notify.Slot.allCases.contains { g.notify[$0] != nil && g.notify.runAs[$0] == nil } }
        guard scripted else { return }
        let nowhere = SourceLocation(file: config.file, line: 0, column: 0)
        let fallback = DefaultScriptUser.decide(configured: scriptUser?.lookup, scriptSecurity: config.enableScriptSecurity)
        let user: ScriptUser?
        switch fallback {
        case .user(let u): user = u
        case .failed(let why):
            user = nil
            // script_user's own failure was reported at its line.
            if scriptUser == nil { config.errors.append(ConfigError(why, at: nowhere, token: "")) }
        }
        func fill(_ n: inout Notify, kind: String) {
            for slot in Notify.Slot.allCases where n[slot] != nil && n.runAs[slot] == nil {
                if let user { n.runAs[slot] = user; continue }
                config.warnings.append(ConfigWarning("Failed to set default user for \(kind) script \(n[slot].map { ScriptCommand.argv($0).first ?? $0 } ?? "") - ignoring", at: nowhere))
                n[slot] = nil
            }
        }
        config.scripts.removeAll { s in
            guard s.command != nil, s.user == nil, user == nil else { return false }
            config.errors.append(ConfigError("Unable to set default user for vrrp script \(s.name) - removing", at: nowhere, token: ""))
            return true
        }
        for i in config.scripts.indices where config.scripts[i].user == nil { config.scripts[i].user = user }
        for i in config.instances.indices { fill(&config.instances[i].notify, kind: "notify") }
        for g in config.syncGroups.indices { fill(&config.syncGroups[g].notify, kind: "notify") }
        if config.notifyFifoScript != nil, config.notifyFifoScriptUser == nil {
            if let user { config.notifyFifoScriptUser = user } else {
                config.warnings.append(ConfigWarning("Failed to set default user for notify_fifo script \(config.notifyFifoScript ?? "") - ignoring", at: nowhere))
                config.notifyFifoScript = nil
            }
        }
    }

    /// `notify_* STRING|"QUOTED STRING" [username [groupname]]`: only the first token is
    /// the command (quote it to pass arguments); what follows names the user to run as.
    /// A script's command line as keepalived reads the configuration line: its first word,
    /// quotes and backslash escapes taken once (they are taken again when it is run).
    static func commandLine(_ w: Token) -> String? {
        ScriptCommand.argv(w.kind == .quoted ? "\"" + w.text + "\"" : w.text).first
    }

    /// `owner`: how keepalived names the instance or group in its complaint about a second
    /// command for the same slot (the first one stays).
    mutating func notify(_ c: Node, into n: inout KeepalivedConfiguration.Notify, owner: String) -> Bool {
        guard let slot = Notify.Slot(rawValue: c.keyword.text) else { return false }
        if n[slot] != nil {
            let kind = slot == .generic ? "notify" : slot.rawValue
            error("\(owner) \(kind) script already specified - ignoring \(c.arguments.first?.text ?? "")", c.keyword)
            return true
        }
        let command = c.arguments.first.flatMap(Self.commandLine) ?? ""
        if command.isEmpty { error("`\(c.keyword.text)' needs a script", c.keyword) }
        let user = scriptUserWords(c, kind: "notify", command: command)
        // A user that names no one leaves the command out, as keepalived does.
        n[slot] = c.arguments.count > 1 && user == nil ? nil : command
        n.runAs[slot] = user
        return true
    }

    mutating func syncGroup(_ n: Node) {
        guard let name = n.arguments.first?.text else { error("vrrp_sync_group needs a name", n.keyword); return }
        var g = KeepalivedConfiguration.SyncGroup(name: name)
        for c in n.children ?? [] {
            guard admit(c, in: "vrrp_sync_group") else { continue }
            if c.keyword.text == "group" {
                // Every token of the block is a member name, several per line allowed.
                for m in c.children ?? [] {
                    for t in [m.keyword] + m.arguments {
                        g.members.append(t.text)
                        syncMembers.append((name, t))
                    }
                }
                continue
            }
            if notify(c, into: &g.notify, owner: "vrrp group \(name):") { continue }
            switch c.keyword.text {
            case "track_interface": g.trackInterfaces += tracked(c.children ?? [])
            case "track_script": g.trackScripts += tracked(c.children ?? [])
            case "track_file": trackedFiles(c.children ?? [], owner: name, into: &g.trackFiles)
            case "track_process": trackedProcesses(c.children ?? [], owner: name, into: &g.trackProcesses)
            case "sync_group_tracking_weight": g.trackingWeight = true
            case "notify_priority_changes":
                if let on = notifyPriorityChanges(c, owner: name, group: true) { g.notifyPriorityChanges = on }
            case "global_tracking":
                error("(\(name)) global_tracking is deprecated. Use track_interface/script/file on the sync group", c.keyword)
                g.trackingWeight = true
            default: error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        config.syncGroups.append(g)
    }

    /// One instance speaks one address family; the address that disagrees with the others
    /// is the one named.
    mutating func addressFamilies(_ name: String, source: Token?, peers: [Token], virtuals: [(Token, UInt8)]) {
        func family(_ t: Token) -> UInt8? { IPAddress(t.text)?.family }
        let peerFamilies = peers.compactMap { family($0) }
        // The family most of its addresses have is the instance's; a tie goes to the source's.
        let all = (source.flatMap { family($0) }.map { [$0] } ?? []) + peerFamilies + virtuals.map(\.1)
        guard let first = all.first else { return }
        let counts = Dictionary(all.map { ($0, 1) }, uniquingKeysWith: +)
        let expected = counts.max { a, b in a.value < b.value || (a.value == b.value && b.key == first) }?.key
        if let s = source, family(s) != expected {
            error("(\(name)) unicast_src_ip \(s.text) is not of the instance's address family", s)
        }
        for p in peers where family(p) != expected {
            error("(\(name)) unicast peer \(p.text) is not of the instance's address family", p)
        }
        for (t, f) in virtuals where f != expected {
            error("(\(name)) virtual address \(t.text) is not of the instance's address family", t)
        }
    }

    mutating func virtualAddress(_ n: Node, isStatic: Bool = false) -> KeepalivedConfiguration.VirtualAddress? {
        // Empty parts kept: "/" alone is an invalid address, not an empty list of parts.
        let parts = n.keyword.text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = IPAddress(parts[0]) else { error("invalid address `\(n.keyword.text)'", n.keyword); return nil }
        let full = address.family == AddressFamily.inet ? 32 : 128
        var v = KeepalivedConfiguration.VirtualAddress(address: address, prefix: parts.count == 2 ? (Int(parts[1]) ?? -1) : full)
        if v.prefix < 0 || v.prefix > full { error("invalid prefix in `\(n.keyword.text)'", n.keyword); return nil }
        var i = 0
        let a = n.arguments
        var hasBroadcast = false
        var derivedBroadcast: DerivedBroadcast?
        while i < a.count {
            let key = a[i].text
            let value = i + 1 < a.count ? a[i + 1].text : nil
            switch key {
            case "dev", "label":
                guard let value, !value.isEmpty else { error("`\(key)' needs a value", a[i]); i += 1; continue }
                if key == "dev" { v.device = value } else { v.label = value }
                i += 2
            case "scope":
                guard let value else { error("`scope' needs a value", a[i]); i += 1; continue }
                if KeepalivedConfiguration.VirtualAddress.scopeNames[value] != nil || UInt8(value) != nil {
                    v.scope = value
                } else {
                    error("Invalid scope '\(value)' specified for \(n.keyword.text) - ignoring", a[i + 1])
                }
                i += 2
            case "preferred_lft":
                // keepalived drops an address whose preferred_lft lacks its value.
                guard let value else { tolerate("No preferred_lft parameter specified for \(n.keyword.text)", a[i]); return nil }
                if let seconds = value == "forever" ? KeepalivedConfiguration.VirtualAddress.forever : UInt32(value) {
                    v.preferredLifetime = seconds
                } else {
                    // keepalived's read_unsigned says why, then the keyword's handler says it again.
                    let why = value.hasPrefix("-") ? "negative number '\(value)'"
                        : !value.isEmpty && value.allSatisfy({ $0.isASCII && $0.isNumber }) ? "number '\(value)' outside unsigned integer range"
                        : "invalid number '\(value)'"
                    tolerate(why, a[i + 1])
                    tolerate("preferred_lft \(value) is invalid", a[i + 1])
                }
                i += 2
            case "-nodad": v.detectsDuplicates = true; i += 1
            case "brd", "broadcast":
                guard let value else { tolerate("No \(key) parameter specified for \(n.keyword.text)", a[i]); return nil }
                guard address.family == AddressFamily.inet else {
                    tolerate("VRRP is trying to assign a broadcast \(key) to the IPv6 address \(n.keyword.text) !!?? WTF... skipping VIP...", a[i])
                    return nil
                }
                hasBroadcast = true
                switch value {
                case "+": derivedBroadcast = .allOnes
                case "-": derivedBroadcast = .network
                default:
                    guard let b = IPAddress(value), b.family == AddressFamily.inet else {
                        tolerate("VRRP is trying to assign invalid broadcast \(value). skipping VIP...", a[i + 1])
                        return nil
                    }
                    v.broadcast = b
                }
                i += 2
            case "peer":
                guard let value else { tolerate("No peer parameter specified for \(n.keyword.text)", a[i]); return nil }
                i += 1
                // keepalived then reads a second peer's value as a word of its own.
                if v.peer != nil { tolerate("Peer \(value) - another peer has already been specified", a[i]); continue }
                i += 1
                // A peer takes no prefix: `/` makes it an invalid address.
                guard let p = value.contains("/") ? nil : IPAddress(value) else {
                    tolerate("VRRP parsed invalid IP \(value). skipping IP...", a[i - 1])
                    tolerate("Invalid peer address \(value)", a[i - 1])
                    continue
                }
                guard p.family == address.family else { tolerate("Peer address \(value) does not match address family", a[i - 1]); continue }
                if v.prefix != full { tolerate("Cannot specify address prefix when specifying peer address - ignoring", a[i - 1]) }
                v.prefix = full
                v.peer = p
            case "home", "mngtmpaddr", "noprefixroute", "autojoin":
                v.flags.insert(AddressFlags.named(key)!); i += 1
            case "no_track": v.noTrack = true; i += 1
            // The address's own use_vmac_addr; keepalived does not know it on a static address.
            case "use_vmac" where !isStatic:
                v.useVMAC = true
                v.useVMACAt = .init(a[i].location)
                i += 1
            // A word keepalived 2.2.7 does not know (`nodad` and `valid_lft` among them, which
            // iproute2 knows) is reported and skipped, alone: `valid_lft`'s value is reported
            // as a word of its own.
            default: tolerate("Unknown configuration entry '\(key)' for ip address - ignoring", a[i]); i += 1
            }
        }
        if hasBroadcast, v.peer != nil {
            tolerate("Cannot specify broadcast and peer addresses - ignoring broadcast address", n.keyword)
            v.broadcast = nil
        } else if let derivedBroadcast {
            // `+` and `-` need host bits to set or clear: a /31 or /32 has none to spare.
            if v.prefix <= 30 {
                v.broadcast = derivedBroadcast.of(v.peer ?? address, prefix: v.prefix)
            } else {
                tolerate("Address prefix length \(v.prefix) too long for broadcast", n.keyword)
            }
        }
        if address.family == AddressFamily.inet6, v.scope != nil {
            tolerate("Cannot specify scope for IPv6 addresses (\(n.keyword.text)) - ignoring scope", n.keyword)
            v.scope = nil
        }
        if address.family == AddressFamily.inet6, v.label != nil {
            tolerate("Cannot specify label for IPv6 addresses (\(n.keyword.text)) - ignoring label", n.keyword)
            v.label = nil
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
        v.defaultVersion = config.vrrpVersion
        v.garpMasterDelay = config.garpDefaults.delay
        v.garpMasterRepeat = config.garpDefaults.repeats
        v.garpMasterRefresh = config.garpDefaults.refresh
        v.garpMasterRefreshRepeat = config.garpDefaults.refreshRepeats
        v.downTimerAdverts = config.garpDefaults.downTimerAdverts
        // keepalived copies the global into the instance as it allocates it: only an
        // instance after global_defs gets it.
        v.skipCheckAdvertAddresses = config.skipCheckAdvertAddresses
        writtenAdvertOptions[name] = nil
        // Where each address was written, to name the one whose family is the odd one out.
        var authType: Token?
        var source: Token?
        var peers: [Token] = []
        var virtuals: [(Token, UInt8)] = []
        for c in n.children ?? [] {
            guard admit(c, in: "vrrp_instance") else { continue }
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
            if notify(c, into: &v.notify, owner: "(\(name))") { continue }
            if advertOption(c, instance: name, into: &v) || garpExtraOption(c, instance: name, into: &v) { continue }
            switch c.keyword.text {
            case "state":
                if first == "MASTER" || first == "BACKUP" { v.initialState = first! } else { error("unknown state `\(first ?? "")', using BACKUP", a.first ?? c.keyword) }
            case "interface":
                // IFNAMSIZ less the terminating NUL.
                if let f = first, !f.isEmpty, f.utf8.count <= 15 { v.interface = f } else {
                    error("`interface' needs an interface name of at most 15 characters", a.first ?? c.keyword)
                }
            case "virtual_router_id": v.virtualRouterID = int(1...255)
            case "priority": v.priority = int(1...255)
            case "advert_int": if let s = seconds(0.01...255) { v.advertisementInterval = s }
            case "version": v.version = int(2...3)
            case "authentication":
                for x in c.children ?? [] where admit(x, in: "authentication") {
                    switch x.keyword.text {
                    case "auth_type":
                        guard let t = x.arguments.first else { error("`auth_type' needs PASS or AH", x.keyword); continue }
                        v.authenticationType = t.text
                        authType = t
                    case "auth_pass":
                        guard x.arguments.first != nil else { error("`auth_pass' needs a password", x.keyword); continue }
                        let p = x.arguments.first?.text ?? ""
                        if p.utf8.count > 8 { warn("auth_pass is longer than 8 characters, truncated", x.keyword) }
                        v.authenticationPassword = String(decoding: p.utf8.prefix(8), as: UTF8.self)
                    default: error("Unknown keyword '\(x.keyword.text)'", x.keyword)
                    }
                }
            case "unicast_src_ip":
                guard let t = a.first, let address = IPAddress(t.text) else {
                    error("`unicast_src_ip' needs an address", a.first ?? c.keyword); continue
                }
                v.unicastSource = address
                v.unicastSourceLocation = t.location
                source = t
            case "mcast_src_ip": v.multicastSource = first.flatMap(IPAddress.init)
            case "unicast_peer":
                for p in c.children ?? [] {
                    guard let addr = IPAddress(p.keyword.text) else { error("invalid unicast peer", p.keyword); continue }
                    var peer = KeepalivedConfiguration.UnicastPeer(address: addr)
                    peers.append(p.keyword)
                    var i = 0
                    while i < p.arguments.count {
                        let option = p.arguments[i]
                        if option.text == "min_ttl" || option.text == "max_ttl" {
                            guard i + 1 < p.arguments.count, let ttl = UInt8(p.arguments[i + 1].text) else {
                                error("`\(option.text)' needs a TTL in 0–255", option); i += 2; continue
                            }
                            if option.text == "min_ttl" { peer.minTTL = ttl } else { peer.maxTTL = ttl }
                        } else {
                            error("unknown unicast_peer option `\(option.text)'", option)
                        }
                        i += 2
                    }
                    v.unicastPeers.append(peer)
                }
            case "virtual_ipaddress":
                for x in c.children ?? [] {
                    guard let address = virtualAddress(x) else { continue }
                    v.virtualAddresses.append(address)
                    virtuals.append((x.keyword, address.address.family))
                }
            case "virtual_routes": virtualRoutes(c, into: &v)
            case "virtual_ipaddress_excluded": excludedAddresses(c, into: &v)
            case "virtual_rules": v.virtualRules += rules(c).map(\.0)
            case "nopreempt": v.noPreempt = true
            case "preempt": v.noPreempt = false
            case "preempt_delay": if let s = seconds(0...1000) { v.preemptDelay = s }
            case "garp_master_delay": if let s = seconds(0...Double(Int32.max)) { v.garpMasterDelay = s }
            case "garp_master_repeat": if let x = int(1...Int(Int32.max)) { v.garpMasterRepeat = x }
            case "garp_master_refresh": if let s = seconds(0...Double(Int32.max)) { v.garpMasterRefresh = s }
            case "garp_master_refresh_repeat": if let x = int(1...Int(Int32.max)) { v.garpMasterRefreshRepeat = x }
            case "track_interface": v.trackInterfaces += tracked(c.children ?? [])
            case "track_script": v.trackScripts += tracked(c.children ?? [])
            case "track_file": trackedFiles(c.children ?? [], owner: name, into: &v.trackFiles)
            case "track_process": trackedProcesses(c.children ?? [], owner: name, into: &v.trackProcesses)
            // keepalived's accept mode: a master's addresses take traffic. no_accept: a
            // master that is not the owner drops it through the nftables set.
            case "accept": v.accept = true
            case "use_vmac": useVMAC(c, into: &v)
            case "vmac_xmit_base": v.vmacTransmitBase = true
            case "notify_priority_changes":
                if let on = notifyPriorityChanges(c, owner: name, group: false) { v.notifyPriorityChanges = on }
            case "use_vmac_addr":
                v.vmacForAddresses = true
                v.vmacForAddressesLocation = c.keyword.location
            case "no_accept":
                v.accept = false
                v.noAcceptLocation = c.keyword.location
            case "strict_mode":
                v.strictModeLocation = c.keyword.location
                switch first {
                case nil, "on", "true", "yes": v.strictMode = true
                case "off", "false", "no": v.strictMode = false
                case let other?: error("(\(name)) invalid strict_mode \(other) specified", a[0])
                }
            case "dont_track_primary": v.dontTrackPrimary = true
            case "promote_secondaries":
                v.promoteSecondaries = true
                v.promoteSecondariesLocation = c.keyword.location
            case "check_unicast_src": v.checkUnicastSource = true
            case "skip_check_adv_addr":
                // keepalived 2.2.7 sets it for any readable value, `false` included.
                if let word = c.arguments.first, Self.trueFalse(word.text) == nil {
                    tolerate("(\(name)) invalid skip_check_adv_addr \(word.text) specified", word)
                } else {
                    v.skipCheckAdvertAddresses = true
                }
            case "unicast_ttl": if let t = int(1...255) { v.unicastTTL = UInt8(t) }
            default:
                error("Unknown keyword '\(c.keyword.text)'", c.keyword)
            }
        }
        if v.virtualRouterID == nil { error("vrrp_instance \(name): virtual_router_id is required", n.keyword) }
        resolveVMAC(&v)
        addressFamilies(name, source: source, peers: peers, virtuals: virtuals)
        if v.interface == nil && v.unicastSource == nil { error("vrrp_instance \(name): interface is required", n.keyword) }
        if v.effectiveVersion == 3, v.authenticationType != nil {
            warn("VRRP version 3 does not support authentication. Ignoring.", n.keyword)
            v.authenticationType = nil
            v.authenticationPassword = nil
        }
        if let t = v.authenticationType, t != "PASS" && t != "AH" {
            error("(\(name)) unknown auth_type `\(t)', authentication ignored", authType ?? n.keyword)
            v.authenticationType = nil
        }
        if v.authenticationType == "AH" && v.virtualAddresses.first?.address.family == AddressFamily.inet6 {
            warn("(\(name)) AH authentication is IPv4 only. Ignoring.", n.keyword)
            v.authenticationType = nil
        }
        if v.authenticationType == "AH" && v.initialState == "MASTER" && v.effectivePriority != 255 {
            // An AH sender must first learn the sequence numbers in use (keepalived).
            tolerate("(\(name)) Initial state master is incompatible with AH authentication - clearing", n.keyword)
            v.priority = v.effectivePriority
            v.initialState = "BACKUP"
        }
        if v.noPreempt && v.initialState == "MASTER" {
            // keepalived clears nopreempt for a MASTER-configured instance, with a warning.
            tolerate("(\(name)) Warning - nopreempt will not work with initial state MASTER - clearing", n.keyword)
            v.noPreempt = false
        }
        config.instances.append(v)
    }
}
