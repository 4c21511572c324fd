import Conntrack
import IPAddressing

/// `Sync { Mode … { } UDP|Multicast|TCP [Default] { } Options { } … }`.
extension ConntrackdConfigParser {
    mutating func sync(_ opener: Token) throws(ConfigError) {
        var y = ConntrackdConfiguration.Sync()
        var timersAt: [Token] = []
        while try !closes(opener) {
            let k = try s.word("a keyword")
            switch k.text {
            case "Mode":
                try once("Sync.Mode", k)
                let m = try s.word("FTFW, NOTRACK or ALARM")
                // The lexer matches mode names in any case.
                switch m.text.lowercased() {
                case "ftfw": y.mode = .ftfw
                case "notrack": y.mode = .notrack
                case "alarm": y.mode = .alarm
                case "nack":
                    y.mode = .ftfw
                    config.warnings.append(ConfigWarning("Now `nack' mode is called `ftfw'. Please, update your conntrackd.conf file.", at: m.location))
                case "persistent":
                    y.mode = .alarm
                    config.warnings.append(ConfigWarning("Now `persistent' mode is called `alarm'. Please, update your conntrackd.conf file.", at: m.location))
                default: throw s.error("syntax error: unknown mode (FTFW, NOTRACK or ALARM)", at: m)
                }
                y.modeWasGiven = true
                try open(m)
                try modeItems(k, &y, timersAt: &timersAt)
            case "UDP", "Multicast", "TCP":
                if y.channels.count >= 4 { throw s.error("too many dedicated links in the configuration file (Maximum: 4)", at: k) }
                let kind = ConntrackdConfiguration.Channel.Kind(rawValue: k.text)!
                if let other = y.channels.first(where: { $0.kind != kind }) {
                    throw s.error("cannot use `\(kind.rawValue)' with other dedicated link protocols (`\(other.kind.rawValue)' at line \(other.location.line))", at: k)
                }
                var c = ConntrackdConfiguration.Channel(kind: kind, location: k.location)
                if let t = s.peek, t.kind == .word, t.text == "Default" {
                    _ = s.next()
                    if let first = y.channels.first(where: \.isDefault) {
                        throw s.error("a second `Default' dedicated link (the first is at line \(first.location.line))", at: t)
                    }
                    c.isDefault = true
                }
                try open(k)
                try channel(k, &c)
                y.channels.append(c)
            case "Options":
                try once("Sync.Options", k)
                try open(k)
                while try !closes(k) {
                    let o = try s.word("an option")
                    switch o.text {
                    case "TCPWindowTracking": y.tcpWindowTracking = try bool(o)
                    case "ExpectationSync":
                        if let t = s.peek, t.kind == .openBrace {
                            _ = s.next()
                            var names: [String] = []
                            while try !closes(o) { names.append(try s.word("a helper name").text) }
                            y.expectationSync = .helpers(names)
                        } else {
                            y.expectationSync = try bool(o) ? .all : .off
                        }
                    default: throw unknown(o, in: "Options")
                    }
                }
            // conntrackd's grammar takes the four timers at the Sync level too.
            case "RefreshTime", "CacheTimeout", "CommitTimeout", "PurgeTimeout":
                try timer(k, &y, timersAt: &timersAt)
            default: throw unknown(k, in: "Sync")
            }
        }
        if y.channels.isEmpty {
            throw s.error("no dedicated link in `Sync': add a UDP, Multicast or TCP block", at: opener)
        }
        if !y.modeWasGiven {
            config.warnings.append(ConfigWarning("No synchronization mode specified. Defaulting to FT-FW mode.", at: opener.location))
        }
        // ALARM's timers: conntrackd reads them in any mode and uses them only in ALARM.
        if y.mode != .alarm {
            for t in timersAt {
                config.warnings.append(ConfigWarning("`\(t.text)' has no effect in Mode \(y.mode.rawValue) (ALARM only), as in conntrackd", at: t.location))
            }
        }
        if y.disableExternalCache && y.commitTimeout != 0 {
            config.warnings.append(ConfigWarning("`CommitTimeout' can't be combined with `DisableExternalCache', ignoring this option. Fix your configuration file.",
                                                 at: commitTimeoutAt ?? opener.location))
            y.commitTimeout = 0
        }
        config.sync = y
    }

    private mutating func timer(_ k: Token, _ y: inout ConntrackdConfiguration.Sync, timersAt: inout [Token]) throws(ConfigError) {
        let v = try number(k, Self.anyCount)
        switch k.text {
        case "RefreshTime": y.refreshTime = Self.orDefault(v, 60); timersAt.append(k)
        case "CacheTimeout": y.cacheTimeout = Self.orDefault(v, 180); timersAt.append(k)
        case "CommitTimeout": commitTimeoutAt = k.location; y.commitTimeout = v
        default: y.purgeTimeout = Self.orDefault(v, 60)
        }
    }

    private mutating func modeItems(_ opener: Token, _ y: inout ConntrackdConfiguration.Sync, timersAt: inout [Token]) throws(ConfigError) {
        let allowed: Set<String> = switch y.mode {
        case .ftfw: ["ResendQueueSize", "CommitTimeout", "PurgeTimeout", "ACKWindowSize", "DisableExternalCache", "StartupResync"]
        case .notrack: ["CommitTimeout", "PurgeTimeout", "DisableInternalCache", "DisableExternalCache", "StartupResync"]
        case .alarm: ["RefreshTime", "CacheTimeout", "CommitTimeout", "PurgeTimeout"]
        }
        while try !closes(opener) {
            let k = try s.word("a keyword")
            guard allowed.contains(k.text) else {
                if ConntrackdKeywords.set.contains(k.text) {
                    throw s.error("syntax error: `\(k.text)' is not valid in Mode \(y.mode.rawValue)", at: k)
                }
                throw unknown(k, in: "Mode \(y.mode.rawValue)")
            }
            switch k.text {
            case "ResendQueueSize": y.resendQueueSize = Self.orDefault(try number(k, Self.anyCount), 131072)
            case "ACKWindowSize": y.ackWindowSize = Self.orDefault(try number(k, Self.anyCount), 300)
            case "DisableExternalCache": y.disableExternalCache = try bool(k)
            case "DisableInternalCache": y.disableInternalCache = try bool(k)
            case "StartupResync": y.startupResync = try bool(k)
            default: try timer(k, &y, timersAt: &timersAt)
            }
        }
    }

    /// conntrackd keeps whichever family came last for the whole link; one link is one family.
    func mixed(_ k: Token) -> ConfigError {
        s.error("`\(k.text)' mixes IPv4 and IPv6 in one link", at: k)
    }

    /// One dedicated link. What it cannot work without is an error naming the block's line.
    private mutating func channel(_ opener: Token, _ c: inout ConntrackdConfiguration.Channel) throws(ConfigError) {
        let isMulticast = c.kind == .multicast
        var portGiven = false
        while try !closes(opener) {
            let k = try s.word("a keyword")
            switch (k.text, c.kind) {
            case ("IPv4_address", _):
                if (c.ipv6Address ?? c.ipv6Destination) != nil { throw mixed(k) }
                c.ipv4Address = try address(k, family: AddressFamily.inet)
            case ("IPv4_Destination_Address", .udp), ("IPv4_Destination_Address", .tcp):
                if (c.ipv6Address ?? c.ipv6Destination) != nil { throw mixed(k) }
                c.ipv4Destination = try address(k, family: AddressFamily.inet)
            // Every link kind runs over IPv6 too (a Multicast link's IPv6_address is its group).
            case ("IPv6_address", _), ("IPv6_Destination_Address", .udp), ("IPv6_Destination_Address", .tcp):
                if (c.ipv4Address ?? c.ipv4Destination ?? c.ipv4Interface) != nil { throw mixed(k) }
                let a = try address(k, family: AddressFamily.inet6)
                if k.text == "IPv6_address" { c.ipv6Address = a } else { c.ipv6Destination = a }
            case ("IPv4_interface", .multicast):
                if c.ipv6Address != nil { throw mixed(k) }
                c.ipv4Interface = try address(k, family: AddressFamily.inet)
            case ("IPv6_interface", .multicast):
                // conntrackd ignores it too: an IPv6 group is joined on Interface's index.
                _ = try address(k, family: AddressFamily.inet6)
                config.warnings.append(ConfigWarning("`IPv6_interface' not required, ignoring", at: k.location))
            case ("Interface", _): c.interface = try s.word("an interface name").text
            case ("Port", .udp), ("Port", .tcp), ("Group", .multicast):
                c.port = try number(k, 1 ... 65535)
                portGiven = true
            case ("SndSocketBuffer", _): c.sendBuffer = try number(k, Self.anyCount)
            case ("RcvSocketBuffer", _): c.receiveBuffer = try number(k, Self.anyCount)
            case ("Checksum", _):
                c.checksum = try bool(k)
                if c.kind == .tcp && !c.checksum {
                    config.warnings.append(ConfigWarning("`Checksum off' has no effect on a TCP link (TCP always checksums), as in conntrackd", at: k.location))
                }
            case ("ErrorQueueLength", .tcp): c.errorQueueLength = Self.orDefault(try number(k, Self.anyCount), 128)
            default:
                if ConntrackdKeywords.set.contains(k.text) {
                    throw s.error("syntax error: `\(k.text)' is not valid in a \(c.kind.rawValue) block", at: k)
                }
                throw unknown(k, in: "a \(c.kind.rawValue) block")
            }
        }
        let kind = c.kind.rawValue
        func missing(_ what: String) -> ConfigError {
            ConfigError("the \(kind) block needs `\(what)'", at: opener.location, token: opener.text)
        }
        if isMulticast, let group = c.ipv6Address {
            guard group.isMulticast else {
                throw ConfigError("the Multicast block's `IPv6_address' must be a multicast group (ff00::/8), not \(group)", at: opener.location, token: opener.text)
            }
            guard c.interface != nil else { throw missing("Interface") }
            guard portGiven else { throw missing("Group") }
        } else if isMulticast {
            guard let group = c.ipv4Address else { throw missing("IPv4_address") }
            guard group.isMulticast else {
                throw ConfigError("the Multicast block's `IPv4_address' must be a multicast group (224.0.0.0/4), not \(group)", at: opener.location, token: opener.text)
            }
            guard c.ipv4Interface != nil else { throw missing("IPv4_interface") }
            guard portGiven else { throw missing("Group") }
        } else if c.ipv6Address != nil || c.ipv6Destination != nil {
            guard c.ipv6Address != nil else { throw missing("IPv6_address") }
            guard c.ipv6Destination != nil else { throw missing("IPv6_Destination_Address") }
            guard portGiven else { throw missing("Port") }
        } else {
            guard c.ipv4Address != nil else { throw missing("IPv4_address") }
            guard c.ipv4Destination != nil else { throw missing("IPv4_Destination_Address") }
            guard portGiven else { throw missing("Port") }
        }
    }
}

extension IPAddress {
    var isMulticast: Bool {
        switch self {
        case .v4(let a): a >> 28 == 0xE
        case .v6(let high, _): high >> 56 == 0xFF
        }
    }
}
