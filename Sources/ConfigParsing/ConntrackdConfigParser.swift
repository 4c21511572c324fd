#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import IPAddressing

/// The conntrackd.conf grammar of 1.4.7 (spec §7): case-sensitive keywords, free-form
/// whitespace, `#` comments. Anything the original refuses is an error naming the file,
/// line, column and token; what it accepts with a warning becomes a warning.
public struct ConntrackdConfigParser {
    private var s: TokenStream
    private var config: ConntrackdConfiguration
    /// Where CommitTimeout was set, for the warning when DisableExternalCache overrides it.
    private var commitTimeoutAt: SourceLocation?

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

    private mutating func top() throws(ConfigError) {
        while let t = s.next() {
            guard t.kind == .word else { throw s.error("syntax error", at: t) }
            switch t.text {
            case "General": try s.open(); try general()
            case "Sync":
                if config.stats != nil { throw s.error("cannot use both `Stats' and `Sync' clauses in conntrackd.conf", at: t) }
                try s.open(); try sync()
            case "Stats":
                if config.sync != nil { throw s.error("cannot use both `Stats' and `Sync' clauses in conntrackd.conf", at: t) }
                try s.open(); try stats()
            case "Helper": try s.open(); try skipBlock()
            default: throw s.error("syntax error: unknown section", at: t)
            }
        }
        if let sync = config.sync {
            if sync.channels.isEmpty {
                throw ConfigError("no dedicated link (UDP, Multicast or TCP) in Sync", at: SourceLocation(file: s.file, line: 1, column: 1), token: "Sync")
            }
        }
    }

    // MARK: values

    private mutating func int(_ what: String) throws(ConfigError) -> Int {
        let t = try s.word(what)
        guard let v = Int32(t.text), v >= 0 else { throw s.error("syntax error: \(what) must be an unsigned integer", at: t) }
        return Int(v)
    }

    private mutating func bool() throws(ConfigError) -> Bool {
        let t = try s.word("on or off")
        switch t.text.lowercased() {
        case "on", "yes": return true
        case "off", "no": return false
        default: throw s.error("syntax error: expected on or off", at: t)
        }
    }

    private mutating func path() throws(ConfigError) -> String {
        let t = try s.word("a path")
        guard t.text.hasPrefix("/") else { throw s.error("syntax error: a path must start with `/'", at: t) }
        return t.text
    }

    private mutating func address(family: UInt8, keyword: Token) throws(ConfigError) -> IPAddress? {
        let t = try s.word("an address")
        let text = t.text.split(separator: "/").first.map(String.init) ?? t.text
        guard let a = IPAddress(text), a.family == family else {
            config.warnings.append(ConfigWarning("\(t.text) is not a valid \(family == AddressFamily.inet ? "IPv4" : "IPv6") address", at: t.location))
            return nil
        }
        return a
    }

    private mutating func logTarget(defaultPath: String) throws(ConfigError) -> ConntrackdConfiguration.LogTarget {
        let t = try s.word("on, off or a path")
        switch t.text.lowercased() {
        case "on", "yes": return .file(defaultPath)
        case "off", "no": return .off
        default:
            guard t.text.hasPrefix("/") else { throw s.error("syntax error: expected on, off or a path", at: t) }
            return .file(t.text)
        }
    }

    private mutating func syslog() throws(ConfigError) -> String? {
        let t = try s.word("on, off or a facility")
        switch t.text.lowercased() {
        case "on", "yes": return "daemon"
        case "off", "no": return nil
        case "daemon", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7": return t.text.lowercased()
        default:
            config.warnings.append(ConfigWarning("'\(t.text)' is not a known syslog facility, ignoring", at: t.location))
            return nil
        }
    }

    // MARK: General

    private mutating func general() throws(ConfigError) {
        var g = config.general
        while try !s.closes() {
            let k = try s.word("a keyword")
            switch k.text {
            case "HashSize": g.hashSize = try int("HashSize")
            case "HashLimit": g.hashLimit = try int("HashLimit")
            case "LogFile": g.logFile = try logTarget(defaultPath: "/var/log/conntrackd.log")
            case "Syslog": g.syslogFacility = try syslog()
            case "LockFile": g.lockFile = try path()
            case "UNIX":
                try s.open()
                while try !s.closes() {
                    let u = try s.word("Path or Backlog")
                    switch u.text {
                    case "Path": g.unixPath = try path()
                    case "Backlog":
                        _ = try int("Backlog")
                        config.warnings.append(ConfigWarning("Backlog option inside UNIX clause is obsolete, please remove it", at: u.location))
                    default: throw s.error("syntax error", at: u)
                    }
                }
            case "NetlinkBufferSize", "SocketBufferSize": g.netlinkBufferSize = try int(k.text)
            case "NetlinkBufferSizeMaxGrowth", "SocketBufferSizeMaxGrowth", "SocketBufferSizeMaxGrown":
                g.netlinkBufferSizeMaxGrowth = try int(k.text)
            case "NetlinkOverrunResync":
                let t = try s.word("on, off or seconds")
                switch t.text.lowercased() {
                case "on", "yes": g.netlinkOverrunResync = 30
                case "off", "no": g.netlinkOverrunResync = nil
                default:
                    guard let v = Int32(t.text), v >= 0 else { throw s.error("syntax error", at: t) }
                    g.netlinkOverrunResync = Int(v)
                }
            case "NetlinkEventsReliable": g.netlinkEventsReliable = try bool()
            case "EventIterationLimit": g.eventIterationLimit = try int("EventIterationLimit")
            case "PollSecs":
                let t = s.peek
                let v = try int("PollSecs")
                if v == 0 { throw s.error("`PollSecs' clause must be > 0", at: t) }
                g.pollSeconds = v
            case "Nice":
                // Only a signed number is accepted, and then ignored (deprecated in 1.4.7).
                let t = try s.word("a signed number")
                guard t.text.hasPrefix("-") || t.text.hasPrefix("+"), Int(t.text) != nil else {
                    throw s.error("syntax error: Nice takes a signed number such as -20", at: t)
                }
                config.warnings.append(ConfigWarning("Nice is deprecated and ignored, use the scheduler of your service manager", at: k.location))
            case "Scheduler":
                try s.open()
                while try !s.closes() {
                    let u = try s.word("Type or Priority")
                    switch u.text {
                    case "Type":
                        let t = try s.word("RR or FIFO")
                        guard t.text == "RR" || t.text == "FIFO" else { throw s.error("unknown scheduler `\(t.text)'", at: t) }
                        g.schedulerType = t.text
                    case "Priority":
                        let t = s.peek
                        let v = try int("Priority")
                        guard v <= 99 else { throw s.error("`Priority' must be between 0 and 99", at: t) }
                        g.schedulerPriority = v
                    default: throw s.error("syntax error", at: u)
                    }
                }
            case "Systemd": g.systemd = try bool()
            case "Filter": g.filters.append(try filter())
            default: throw s.error("syntax error: unknown keyword in General", at: k)
            }
        }
        config.general = g
    }

    private mutating func filter() throws(ConfigError) -> ConntrackdConfiguration.Filter {
        var f = ConntrackdConfiguration.Filter()
        if let t = s.peek, t.kind == .word, t.text == "From" {
            _ = s.next()
            let w = try s.word("Userspace or Kernelspace")
            switch w.text {
            case "Userspace": f.source = .userspace
            case "Kernelspace": f.source = .kernelspace
            default: throw s.error("syntax error: expected Userspace or Kernelspace", at: w)
            }
        }
        try s.open()
        while try !s.closes() {
            let k = try s.word("Protocol, Address or State")
            let policyToken = try s.word("Accept or Ignore")
            guard let policy = ConntrackdConfiguration.Policy(rawValue: policyToken.text) else {
                throw s.error("syntax error: expected Accept or Ignore", at: policyToken)
            }
            try s.open()
            switch k.text {
            case "Protocol":
                f.protocolPolicy = policy
                while try !s.closes() {
                    let name = try s.word("a protocol name")
                    if let n = Self.protocolNumber(name.text) {
                        f.protocolNumbers.append(n)
                    } else {
                        config.warnings.append(ConfigWarning("protocol `\(name.text)' unknown, ignoring", at: name.location))
                    }
                }
            case "Address":
                f.addressPolicy = policy
                while try !s.closes() {
                    let kind = try s.word("IPv4_address or IPv6_address")
                    let family: UInt8
                    switch kind.text {
                    case "IPv4_address": family = AddressFamily.inet
                    case "IPv6_address": family = AddressFamily.inet6
                    default: throw s.error("syntax error: expected IPv4_address or IPv6_address", at: kind)
                    }
                    let t = try s.word("an address")
                    let parts = t.text.split(separator: "/", maxSplits: 1).map(String.init)
                    let full = family == AddressFamily.inet ? 32 : 128
                    guard let a = IPAddress(parts[0]), a.family == family else {
                        config.warnings.append(ConfigWarning("\(t.text) is not a valid address, ignoring", at: t.location))
                        continue
                    }
                    var prefix = full
                    if parts.count == 2 {
                        guard let p = Int(parts[1]), p >= 0, p <= full else {
                            throw s.error("syntax error: bad prefix length", at: t)
                        }
                        prefix = p
                    }
                    f.addresses.append(ConntrackdConfiguration.NetworkPrefix(address: a, prefix: prefix))
                }
            case "State":
                f.statePolicy = policy
                while try !s.closes() {
                    let name = try s.word("a TCP state")
                    if name.text == "for" {
                        let proto = try s.word("TCP")
                        guard proto.text == "TCP" else { throw s.error("syntax error: states are for TCP only", at: proto) }
                        continue
                    }
                    let text = name.text == "CLOSED" ? "CLOSE" : name.text
                    guard let state = TCPState(name: text) else { throw s.error("syntax error: unknown TCP state", at: name) }
                    f.states.append(state)
                }
            default: throw s.error("syntax error: unknown filter", at: k)
            }
        }
        return f
    }

    static func protocolNumber(_ name: String) -> UInt8? {
        switch name.uppercased() {
        case "TCP": IPProtocolNumber.tcp
        case "UDP": IPProtocolNumber.udp
        case "ICMP": IPProtocolNumber.icmp
        case "IPV6-ICMP", "ICMPV6": IPProtocolNumber.icmpv6
        case "SCTP": IPProtocolNumber.sctp
        case "DCCP": IPProtocolNumber.dccp
        case "UDPLITE": IPProtocolNumber.udplite
        case "GRE": IPProtocolNumber.gre
        case "VRRP": 112
        default: UInt8(name)
        }
    }

    // MARK: Sync

    private mutating func sync() throws(ConfigError) {
        var y = config.sync ?? ConntrackdConfiguration.Sync()
        while try !s.closes() {
            let k = try s.word("a keyword")
            switch k.text {
            case "Mode":
                let m = try s.word("FTFW, NOTRACK or ALARM")
                switch m.text {
                case "FTFW": y.mode = .ftfw
                case "NOTRACK": y.mode = .notrack
                case "ALARM": y.mode = .alarm
                case "nack":
                    y.mode = .ftfw
                    config.warnings.append(ConfigWarning("the `nack' mode is deprecated, use FTFW", at: m.location))
                case "persistent":
                    y.mode = .alarm
                    config.warnings.append(ConfigWarning("the `persistent' mode is deprecated, use ALARM", at: m.location))
                default: throw s.error("syntax error: unknown mode", at: m)
                }
                y.modeWasGiven = true
                try s.open()
                try modeItems(&y)
            case "UDP", "Multicast", "TCP":
                if y.channels.count >= 4 { throw s.error("too many dedicated links in the configuration file (Maximum: 4)", at: k) }
                let kind = ConntrackdConfiguration.Channel.Kind(rawValue: k.text)!
                if let other = y.channels.first(where: { ($0.kind == .multicast) != (kind == .multicast) }) {
                    throw s.error("cannot use `\(kind == .multicast ? "Multicast" : other.kind.rawValue)' with other dedicated link protocols!", at: k)
                }
                var c = ConntrackdConfiguration.Channel(kind: kind, location: k.location)
                if let t = s.peek, t.kind == .word, t.text == "Default" { _ = s.next(); c.isDefault = true }
                try s.open()
                try channel(&c)
                y.channels.append(c)
            case "Options":
                try s.open()
                while try !s.closes() {
                    let o = try s.word("an option")
                    switch o.text {
                    case "TCPWindowTracking": y.tcpWindowTracking = try bool()
                    case "ExpectationSync":
                        if let t = s.peek, t.kind == .openBrace {
                            _ = s.next()
                            var names: [String] = []
                            while try !s.closes() { names.append(try s.word("a helper name").text) }
                            y.expectationSync = .helpers(names)
                        } else {
                            y.expectationSync = try bool() ? .all : .off
                        }
                    default: throw s.error("syntax error: unknown option", at: o)
                    }
                }
            case "RefreshTime": y.refreshTime = try int(k.text)
            case "CacheTimeout": y.cacheTimeout = try int(k.text)
            case "CommitTimeout": commitTimeoutAt = k.location; y.commitTimeout = try int(k.text)
            case "PurgeTimeout": y.purgeTimeout = try int(k.text)
            // Accepted at this level by 1.4.x as well.
            case "ResendQueueSize": y.resendQueueSize = try int(k.text)
            case "ACKWindowSize": y.ackWindowSize = try int(k.text)
            default: throw s.error("syntax error: unknown keyword in Sync", at: k)
            }
        }
        if !y.modeWasGiven {
            config.warnings.append(ConfigWarning("No synchronization mode specified. Defaulting to FT-FW mode.", at: SourceLocation(file: s.file, line: 1, column: 1)))
        }
        if y.disableExternalCache && y.commitTimeout != 0 {
            config.warnings.append(ConfigWarning("`CommitTimeout' can't be combined with `DisableExternalCache', ignoring this option. Fix your configuration file.",
                                                 at: commitTimeoutAt ?? SourceLocation(file: s.file, line: 1, column: 1)))
            y.commitTimeout = 0
        }
        config.sync = y
    }

    private mutating func modeItems(_ y: inout ConntrackdConfiguration.Sync) throws(ConfigError) {
        let allowed: Set<String> = switch y.mode {
        case .ftfw: ["ResendQueueSize", "CommitTimeout", "PurgeTimeout", "ACKWindowSize", "DisableExternalCache", "StartupResync"]
        case .notrack: ["CommitTimeout", "PurgeTimeout", "DisableInternalCache", "DisableExternalCache", "StartupResync"]
        case .alarm: ["RefreshTime", "CacheTimeout", "CommitTimeout", "PurgeTimeout"]
        }
        while try !s.closes() {
            let k = try s.word("a keyword")
            guard allowed.contains(k.text) else {
                throw s.error("syntax error: `\(k.text)' is not valid in Mode \(y.mode.rawValue)", at: k)
            }
            switch k.text {
            case "ResendQueueSize": y.resendQueueSize = try int(k.text)
            case "ACKWindowSize": y.ackWindowSize = try int(k.text)
            case "CommitTimeout": commitTimeoutAt = k.location; y.commitTimeout = try int(k.text)
            case "PurgeTimeout": y.purgeTimeout = try int(k.text)
            case "RefreshTime": y.refreshTime = try int(k.text)
            case "CacheTimeout": y.cacheTimeout = try int(k.text)
            case "DisableExternalCache": y.disableExternalCache = try bool()
            case "DisableInternalCache": y.disableInternalCache = try bool()
            case "StartupResync": y.startupResync = try bool()
            default: break
            }
        }
    }

    private mutating func channel(_ c: inout ConntrackdConfiguration.Channel) throws(ConfigError) {
        while try !s.closes() {
            let k = try s.word("a keyword")
            switch (k.text, c.kind) {
            case ("IPv4_address", _): c.ipv4Address = try address(family: AddressFamily.inet, keyword: k)
            case ("IPv6_address", _): c.ipv6Address = try address(family: AddressFamily.inet6, keyword: k)
            case ("IPv4_Destination_Address", .udp), ("IPv4_Destination_Address", .tcp):
                c.ipv4Destination = try address(family: AddressFamily.inet, keyword: k)
            case ("IPv6_Destination_Address", .udp), ("IPv6_Destination_Address", .tcp):
                c.ipv6Destination = try address(family: AddressFamily.inet6, keyword: k)
            case ("IPv4_interface", .multicast): c.ipv4Interface = try address(family: AddressFamily.inet, keyword: k)
            case ("IPv6_interface", .multicast):
                _ = try s.word("an interface")
                config.warnings.append(ConfigWarning("IPv6_interface is ignored", at: k.location))
            case ("Interface", _):
                let t = try s.word("an interface name")
                c.interface = t.text
            case ("Port", .udp), ("Port", .tcp), ("Group", .multicast): c.port = try int(k.text)
            case ("SndSocketBuffer", _): c.sendBuffer = try int(k.text)
            case ("RcvSocketBuffer", _): c.receiveBuffer = try int(k.text)
            case ("Checksum", _): c.checksum = try bool()
            case ("ErrorQueueLength", .tcp): c.errorQueueLength = try int(k.text)
            default: throw s.error("syntax error: `\(k.text)' is not valid in a \(c.kind.rawValue) block", at: k)
            }
        }
    }

    // MARK: Stats, Helper

    private mutating func stats() throws(ConfigError) {
        var st = ConntrackdConfiguration.Stats()
        while try !s.closes() {
            let k = try s.word("a keyword")
            switch k.text {
            case "LogFile": st.logFile = try logTarget(defaultPath: "/var/log/conntrackd-stats.log")
            case "Syslog": st.syslogFacility = try syslog()
            default: throw s.error("syntax error: unknown keyword in Stats", at: k)
            }
        }
        config.stats = st
    }

    /// Helper blocks configure user-space helpers (NFQUEUE), which sync does not use.
    private mutating func skipBlock() throws(ConfigError) {
        var depth = 1
        while depth > 0 {
            guard let t = s.next() else { throw s.error("missing `}' at end of file", at: nil) }
            if t.kind == .openBrace { depth += 1 }
            if t.kind == .closeBrace { depth -= 1 }
        }
    }
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
