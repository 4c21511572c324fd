#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import IPAddressing

/// The conntrackd.conf grammar of 1.4.7 (spec §7; src/read_config_yy.y): case-sensitive
/// keywords, case-insensitive `on`/`off`/`yes`/`no` and mode names, free-form whitespace,
/// `#` comments. Every keyword is acted on or refused: anything conntrackd refuses, and
/// anything it would skip with a warning that changes what is replicated (an unknown
/// protocol, a malformed address), is an error naming the file, line, column and token.
/// What Tandem does not do (statistics mode, user-space helpers, IPv6 links) is refused
/// with "not supported". What conntrackd itself accepts and ignores with a warning
/// (`Nice`, `Backlog`) stays a warning.
public struct ConntrackdConfigParser {
    var s: TokenStream
    var config: ConntrackdConfiguration
    /// Where CommitTimeout was set, for the warning when DisableExternalCache overrides it.
    var commitTimeoutAt: SourceLocation?
    /// Blocks conntrackd reads once (a second one would merge into or silently replace the
    /// first), by a key naming the block and its parent.
    var seenBlocks: [String: Token] = [:]

    public static func parse(file: String) throws(ConfigError) -> ConntrackdConfiguration {
        guard let text = readWholeFile(file) else {
            throw ConfigError("can't open config file: \(errnoText())", at: SourceLocation(file: file, line: 0, column: 0), token: "")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String = "conntrackd.conf") throws(ConfigError) -> ConntrackdConfiguration {
        let tokens = try Lexer(file: file).tokenize(text)
        var p = ConntrackdConfigParser(s: TokenStream(tokens, file: file), config: ConntrackdConfiguration(file: file))
        try p.top()
        return p.config
    }

    /// `parse`, then the first thing Tandem does not do is an error: what `--check` and
    /// the daemon's start use.
    public static func check(_ text: String, file: String = "conntrackd.conf") throws(ConfigError) -> ConntrackdConfiguration {
        let c = try parse(text, file: file)
        if let first = c.unsupported.first { throw first }
        return c
    }

    public static func check(file: String) throws(ConfigError) -> ConntrackdConfiguration {
        let c = try parse(file: file)
        if let first = c.unsupported.first { throw first }
        return c
    }

    private mutating func top() throws(ConfigError) {
        while let t = s.next() {
            guard t.kind == .word else { throw s.error("syntax error: expected a section (General, Sync)", at: t) }
            switch t.text {
            case "General":
                try once("General", t)
                try open(t)
                try general()
            case "Sync":
                try once("Sync", t)
                if let stats = seenBlocks["Stats"] {
                    throw s.error("cannot use both `Stats' and `Sync' clauses in conntrackd.conf (`Stats' at line \(stats.location.line))", at: t)
                }
                try open(t)
                try sync(t)
            case "Stats":
                try once("Stats", t)
                if let sync = seenBlocks["Sync"] {
                    throw s.error("cannot use both `Stats' and `Sync' clauses in conntrackd.conf (`Sync' at line \(sync.location.line))", at: t)
                }
                try open(t)
                try stats(t)
                config.unsupported.append(notSupported("the `Stats' section (statistics mode)",
                                                       because: "Tandem replicates state; it does not log flows. Configure `Sync' instead", at: t))
            case "Helper":
                try once("Helper", t)
                try open(t)
                try helper(t)
                config.unsupported.append(notSupported("the `Helper' section (user-space conntrack helpers)",
                                                       because: "they take packets from NFQUEUE, which Tandem does not implement. Use the kernel's helpers (nft `ct helper')", at: t))
            default:
                throw unknown(t, in: "the top level (sections are General and Sync)")
            }
        }
        if config.sync == nil && seenBlocks["Stats"] == nil {
            config.unsupported.append(ConfigError("no `Sync' section: statistics mode (neither Sync nor Stats) is not supported by Tandem",
                                                  at: SourceLocation(file: s.file, line: 1, column: 1), token: ""))
        }
    }

    /// `Stats { LogFile … Syslog … }`, read so that its errors are found too.
    private mutating func stats(_ opener: Token) throws(ConfigError) {
        var st = ConntrackdConfiguration.Stats()
        while try !closes(opener) {
            let k = try s.word("a keyword")
            switch k.text {
            case "LogFile": st.logFile = try logTarget(k, defaultPath: "/var/log/conntrackd-stats.log")
            case "Syslog": st.syslogFacility = try syslog(k)
            default: throw unknown(k, in: "Stats")
            }
        }
        config.stats = st
    }

    /// `Helper { Setup on|off  Type NAME inet|inet6 tcp|udp { QueueNum N QueueLen N
    /// Policy NAME { ExpectMax N ExpectTimeout N } } }`, read for its errors only.
    private mutating func helper(_ opener: Token) throws(ConfigError) {
        while try !closes(opener) {
            let k = try s.word("Type or Setup")
            switch k.text {
            case "Setup": _ = try bool(k)
            case "Type":
                _ = try s.word("a helper name")
                let l3 = try s.word("inet or inet6")
                guard l3.text == "inet" || l3.text == "inet6" else { throw s.error("unknown layer 3 protocol (inet or inet6)", at: l3) }
                let l4 = try s.word("tcp or udp")
                guard l4.text == "tcp" || l4.text == "udp" else { throw s.error("unknown layer 4 protocol (tcp or udp)", at: l4) }
                try open(k)
                while try !closes(k) {
                    let h = try s.word("QueueNum, QueueLen or Policy")
                    switch h.text {
                    case "QueueNum", "QueueLen": _ = try number(h, Self.anyCount)
                    case "Policy":
                        _ = try s.word("a policy name")
                        try open(h)
                        while try !closes(h) {
                            let p = try s.word("ExpectMax or ExpectTimeout")
                            guard p.text == "ExpectMax" || p.text == "ExpectTimeout" else { throw unknown(p, in: "Policy") }
                            _ = try number(p, Self.anyCount)
                        }
                    default: throw unknown(h, in: "Helper Type")
                    }
                }
            default: throw unknown(k, in: "Helper")
            }
        }
    }

    // MARK: blocks

    mutating func open(_ opener: Token) throws(ConfigError) {
        guard let t = s.next() else { throw s.error("expected `{' after `\(opener.text)', found end of file", at: nil) }
        // Named on the opener's line: that is where the brace is missing.
        guard t.kind == .openBrace else {
            throw ConfigError("syntax error: expected `{' after `\(opener.text)' (found `\(t.text)' at line \(t.location.line))", at: opener.location, token: opener.text)
        }
    }

    /// True (and consumed) when the next token closes the block `opener` opened; at the
    /// end of file the error names the block's line, where the `}' is missing.
    mutating func closes(_ opener: Token) throws(ConfigError) -> Bool {
        guard let t = s.peek else {
            throw ConfigError("missing `}': the `\(opener.text)' block opened at line \(opener.location.line) is still open at the end of file (line \(s.endLocation.line))",
                              at: opener.location, token: opener.text)
        }
        if t.kind == .closeBrace { _ = s.next(); return true }
        return false
    }

    mutating func once(_ key: String, _ t: Token) throws(ConfigError) {
        if let first = seenBlocks[key] {
            throw s.error("a second `\(t.text)' block (the first is at line \(first.location.line)): conntrackd would merge or replace it; write one", at: t)
        }
        seenBlocks[key] = t
    }

    func unknown(_ k: Token, in place: String) -> ConfigError {
        if ConntrackdKeywords.set.contains(k.text) { return s.error("syntax error: `\(k.text)' is not valid in \(place)", at: k) }
        if let right = ConntrackdKeywords.spelling(of: k.text) {
            return s.error("syntax error: unknown keyword in \(place) (keywords are case-sensitive: `\(right)')", at: k)
        }
        return s.error("syntax error: unknown keyword in \(place)", at: k)
    }

    func notSupported(_ what: String, because why: String, at t: Token) -> ConfigError {
        s.error("\(what) is not supported: \(why)", at: t)
    }

    // MARK: values

    /// An unsigned decimal number, as conntrackd's lexer reads one (`[0-9]+`), within `range`.
    mutating func number(_ keyword: Token, _ range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let t = try s.word("a number after `\(keyword.text)'")
        let digitsOnly = !t.text.isEmpty && t.text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
        let limits = range.upperBound == Int(Int32.max) ? "\(range.lowerBound) or more" : "from \(range.lowerBound) to \(range.upperBound)"
        guard digitsOnly else { throw s.error("syntax error: `\(keyword.text)' takes a number \(limits)", at: t) }
        guard let v = Int(t.text), range.contains(v) else { throw s.error("`\(keyword.text)' out of range: it takes a number \(limits)", at: t) }
        return v
    }

    static let anyCount = 0 ... Int(Int32.max)

    mutating func bool(_ keyword: Token) throws(ConfigError) -> Bool {
        let t = try s.word("on or off after `\(keyword.text)'")
        switch t.text.lowercased() {
        case "on", "yes": return true
        case "off", "no": return false
        default: throw s.error("syntax error: `\(keyword.text)' takes on or off", at: t)
        }
    }

    mutating func path(_ keyword: Token, maximumLength: Int) throws(ConfigError) -> String {
        let t = try s.word("a path after `\(keyword.text)'")
        guard t.text.hasPrefix("/") else { throw s.error("syntax error: `\(keyword.text)' takes an absolute path", at: t) }
        guard t.text.utf8.count <= maximumLength else { throw s.error("`\(keyword.text)' path is longer than \(maximumLength) characters", at: t) }
        return t.text
    }

    mutating func address(_ keyword: Token, family: UInt8) throws(ConfigError) -> IPAddress {
        let t = try s.word("an address after `\(keyword.text)'")
        guard let a = IPAddress(t.text), a.family == family else {
            throw s.error("`\(keyword.text)' takes an \(family == AddressFamily.inet ? "IPv4" : "IPv6") address", at: t)
        }
        return a
    }

    mutating func logTarget(_ keyword: Token, defaultPath: String) throws(ConfigError) -> ConntrackdConfiguration.LogTarget {
        guard let t = s.peek, t.kind == .word else { _ = try s.word("on, off or a path after `LogFile'"); return .off }
        switch t.text.lowercased() {
        case "on", "yes": _ = s.next(); return .file(defaultPath)
        case "off", "no": _ = s.next(); return .off
        default:
            guard t.text.hasPrefix("/") else { throw s.error("syntax error: `LogFile' takes on, off or an absolute path", at: t) }
            return .file(try path(keyword, maximumLength: 256))
        }
    }

    static let facilities = ["daemon", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]

    mutating func syslog(_ keyword: Token) throws(ConfigError) -> String? {
        let t = try s.word("on, off or a facility after `Syslog'")
        switch t.text.lowercased() {
        case "on", "yes": return "daemon"
        case "off", "no": return nil
        default:
            // conntrackd compares facility names exactly and skips an unknown one with a
            // warning, which leaves the daemon logging nowhere the operator expects.
            guard Self.facilities.contains(t.text) else {
                throw s.error("unknown syslog facility (daemon, local0 … local7)", at: t)
            }
            return t.text
        }
    }

    // MARK: General

    private mutating func general() throws(ConfigError) {
        var g = config.general
        let opener = seenBlocks["General"]!
        while try !closes(opener) {
            let k = try s.word("a keyword")
            switch k.text {
            // HashSize sizes the caches' tables up front; they grow past it (see docs).
            case "HashSize": g.hashSize = Self.orDefault(try number(k, 0 ... 1 << 24), 65536)
            case "HashLimit": g.hashLimit = Self.orDefault(try number(k, Self.anyCount), 262144)
            case "LogFile": g.logFile = try logTarget(k, defaultPath: "/var/log/conntrackd.log")
            case "Syslog": g.syslogFacility = try syslog(k)
            case "LockFile": g.lockFile = try path(k, maximumLength: 256)
            case "UNIX":
                try once("General.UNIX", k)
                try open(k)
                while try !closes(k) {
                    let u = try s.word("Path or Backlog")
                    switch u.text {
                    case "Path": g.unixPath = try path(u, maximumLength: 107)
                    case "Backlog":
                        _ = try number(u, Self.anyCount)
                        config.warnings.append(ConfigWarning("Backlog option inside UNIX clause is obsolete, please remove it", at: u.location))
                    default: throw unknown(u, in: "UNIX")
                    }
                }
            case "NetlinkBufferSize", "SocketBufferSize": g.netlinkBufferSize = try number(k, Self.anyCount)
            case "NetlinkBufferSizeMaxGrowth", "SocketBufferSizeMaxGrowth", "SocketBufferSizeMaxGrown":
                g.netlinkBufferSizeMaxGrowth = try number(k, Self.anyCount)
            case "NetlinkOverrunResync":
                guard let t = s.peek, t.kind == .word else { _ = try s.word("on, off or seconds"); break }
                switch t.text.lowercased() {
                case "on", "yes": _ = s.next(); g.netlinkOverrunResync = 30
                case "off", "no": _ = s.next(); g.netlinkOverrunResync = nil
                default: g.netlinkOverrunResync = Self.orDefault(try number(k, Self.anyCount), 30)
                }
            case "NetlinkEventsReliable": g.netlinkEventsReliable = try bool(k)
            case "EventIterationLimit": g.eventIterationLimit = Self.orDefault(try number(k, Self.anyCount), 100)
            case "PollSecs":
                let t = s.peek
                let v = try number(k, Self.anyCount)
                if v == 0 { throw s.error("`PollSecs' clause must be > 0", at: t) }
                g.pollSeconds = v
            case "Nice":
                // conntrackd takes a signed number only, and ignores it with a warning.
                let t = try s.word("a signed number")
                guard t.text.hasPrefix("-") || t.text.hasPrefix("+"), Int(t.text) != nil else {
                    throw s.error("syntax error: Nice takes a signed number such as -20", at: t)
                }
                config.warnings.append(ConfigWarning("Nice is deprecated and ignored (as by conntrackd), use the scheduler of your service manager", at: k.location))
            case "Scheduler":
                try once("General.Scheduler", k)
                g.scheduler = try scheduler(k)
            case "Systemd": g.systemd = try bool(k)
            case "Filter":
                // conntrackd pours every Filter block into one filter, so a second block
                // widens or narrows the first in ways its text does not show.
                try once("General.Filter", k)
                g.filters.append(try filter(k))
            default: throw unknown(k, in: "General")
            }
        }
        config.general = g
    }

    /// `Scheduler { Type RR|FIFO Priority 1-99 }`. conntrackd turns a missing or zero
    /// priority into a failed `sched_setscheduler` and a warning, and a Priority without a
    /// Type into SCHED_RR at the highest priority; both are refused here.
    private mutating func scheduler(_ opener: Token) throws(ConfigError) -> ConntrackdConfiguration.Scheduler {
        try open(opener)
        var policy: ConntrackdConfiguration.Scheduler.Policy?
        var priority: Int?
        while try !closes(opener) {
            let u = try s.word("Type or Priority")
            switch u.text {
            case "Type":
                let t = try s.word("RR or FIFO")
                switch t.text.lowercased() {
                case "rr": policy = .roundRobin
                case "fifo": policy = .fifo
                default: throw s.error("unknown scheduler (RR or FIFO)", at: t)
                }
            case "Priority":
                priority = try number(u, 1 ... 99)
            default: throw unknown(u, in: "Scheduler")
            }
        }
        guard let policy else { throw s.error("`Scheduler' needs `Type RR' or `Type FIFO'", at: opener) }
        guard let priority else { throw s.error("`Scheduler' needs `Priority' (1 to 99) with `Type \(policy.rawValue)'", at: opener) }
        return .init(policy: policy, priority: priority)
    }

    /// conntrackd treats 0 as "not set" for most numbers and puts its default in.
    static func orDefault(_ v: Int, _ fallback: Int) -> Int { v == 0 ? fallback : v }
}

func readWholeFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n < 0 { return nil }
        if n == 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

func errnoText() -> String { String(cString: strerror(errno)) }
