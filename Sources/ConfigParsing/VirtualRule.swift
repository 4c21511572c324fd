#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// One line of `virtual_rules` or `static_rules`, in `ip rule add` syntax as keepalived
/// 2.2.7 reads it: a selector (from, to, iif, oif, fwmark, tos, not) and one action
/// (table, goto, nop, blackhole, unreachable, prohibit).
public struct VirtualRule: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        case table(UInt32)
        case goto(UInt32)
        case nop, blackhole, unreachable, prohibit
    }

    public struct Prefix: Hashable, Sendable {
        /// nil = `all` / `any` / `default`: the selector matches every address.
        public var address: IPAddress?
        public var length: Int
        public init(address: IPAddress?, length: Int) {
            self.address = address
            self.length = length
        }
    }

    public var family: UInt8 = AddressFamily.inet
    public var from: Prefix?
    public var to: Prefix?
    public var action: Action
    public var invert = false
    /// keepalived gives a rule without one the next free preference counting down from 16384.
    public var priority: UInt32?
    public var fwmark: UInt32?
    public var fwmask: UInt32?
    public var tos: UInt8 = 0
    public var inputInterface: String?
    public var outputInterface: String?
    /// false with `no_track`: the rule is not marked as keepalived's (protocol 18).
    public var tracked = true
    /// A static rule's `track_group` (a group defined above it): its instances track the
    /// rule's iif. Never set on a virtual rule.
    public var trackGroup: String?
    /// `protocol N`: sent only with `no_track` (keepalived marks tracked rules as its own).
    public var protocolNumber: UInt8?
    public var suppressPrefixLength: UInt32?
    public var uidRange: ClosedRange<UInt32>?
    public var ipProtocol: UInt8?
    public var sourcePorts: ClosedRange<UInt16>?
    public var destinationPorts: ClosedRange<UInt16>?
    /// What keepalived reports about the line and then leaves out while keeping the rule.
    public private(set) var problems: [ParseError] = []

    /// What is wrong with a line, and the word it is about (its index in the line).
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var word: Int
        /// keepalived knows the option; Tandem does not implement it.
        public var unsupported = false
        public var description: String { message }
    }

    /// Options keepalived 2.2.7 accepts that Tandem refuses rather than installs half.
    public static let unsupportedOptions: Set<String> = [
        "realms", "suppress_ifgroup", "sup_group", "tunnel-id", "l3mdev", "track_group",
    ]

    public init(_ words: [String]) throws(ParseError) {
        var i = 0
        var family: UInt8?
        var action: Action?
        var tableOption = false
        var problems: [ParseError] = []
        func fail(_ message: String, _ at: Int? = nil) -> ParseError { ParseError(message: message, word: min(at ?? i, max(0, words.count - 1))) }
        func value(_ what: String) throws(ParseError) -> String {
            i += 1
            guard i < words.count else { throw fail("`\(words[i - 1])' needs \(what)", i - 1) }
            return words[i]
        }
        func claim(_ f: UInt8) throws(ParseError) {
            if let family, family != f { throw fail("rule specification has mixed IPv4 and IPv6") }
            family = f
        }
        func setAction(_ a: Action) throws(ParseError) {
            guard action == nil else { throw fail("Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule") }
            action = a
        }
        func number(_ text: String, _ what: String) throws(ParseError) -> UInt32 {
            guard let n = Self.unsigned(text) else { throw fail("Invalid rule \(what) \(text) specified") }
            return n
        }
        while i < words.count {
            let w = words[i]
            switch w {
            case "inet", "inet6":
                try claim(w == "inet" ? AddressFamily.inet : AddressFamily.inet6)
                // keepalived 2.2.7 steps over the word after it as well (`inet6 from X`
                // reads X as an option), so a line is judged as keepalived judges it.
                i += 1
            case "from", "to":
                let text = try value("an address")
                guard let p = Self.prefix(text) else { throw fail("Invalid rule \(w) address \(text)") }
                if let a = p.address { try claim(a.family) }
                if w == "from" { from = p } else { to = p }
            case "table", "lookup":
                let t = try value("a table")
                guard let n = Self.table(t) else { throw fail("Routing table \(t) not found for rule") }
                guard n != 0 else { throw fail("Table 0 is not valid") }
                try setAction(.table(n))
            case "not": invert = true
            case "preference", "order", "priority": priority = try number(try value("a number"), "preference")
            case "tos", "dsfield":
                let t = try value("a value")
                guard let n = Self.unsigned(t), n <= 255 else { throw fail("TOS value \(t) is invalid") }
                tos = UInt8(n)
            case "fwmark":
                let t = try value("a mark")
                let parts = t.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard let mark = Self.unsigned(parts[0]) else { throw fail("Invalid rule fwmark \(t) specified") }
                fwmark = mark
                if parts.count == 2 {
                    guard let mask = Self.unsigned(parts[1]) else { throw fail("Invalid rule fwmark \(t) specified") }
                    fwmask = mask
                }
            case "dev", "iif": inputInterface = try value("an interface")
            case "oif": outputInterface = try value("an interface")
            case "no_track": tracked = false
            case "suppress_prefixlength", "sup_pl":
                let t = try value("a length")
                guard let n = UInt32(t), n <= UInt32(Int32.max) else { throw fail("Invalid suppress_prefixlength \(t) specified") }
                suppressPrefixLength = n
                tableOption = true
            case "uidrange":
                let t = try value("a range")
                let parts = t.split(separator: "-", maxSplits: 1).map { UInt32($0) }
                guard parts.count == 2, let a = parts[0], let b = parts[1], a <= b else { throw fail("Invalid uidrange \(t) specified") }
                uidRange = a...b
            case "protocol":
                let t = try value("a number")
                if let n = UInt8(t) { protocolNumber = n } else { problems.append(fail("Invalid protocol \(t)")) }
            case "ipproto":
                let t = try value("a protocol")
                if let n = Self.ipProtocol(t) { ipProtocol = n } else { problems.append(fail("Invalid ipproto \(t)")) }
            case "sport", "dport":
                // keepalived 2.2.7 takes START-END only: a single port is reported and left out.
                let t = try value("a port range")
                let parts = t.split(separator: "-", maxSplits: 1).map { UInt16($0) }
                guard parts.count == 2, let a = parts[0], let b = parts[1] else {
                    problems.append(fail("invalid \(w) range \(t)"))
                    break
                }
                if w == "sport" { sourcePorts = a...max(a, b) } else { destinationPorts = a...max(a, b) }
            case _ where Self.unsupportedOptions.contains(w):
                throw ParseError(message: "rule option `\(w)'", word: i, unsupported: true)
            default:
                var kind = w
                if kind == "type" { kind = try value("an action") }
                switch kind {
                case "goto": try setAction(.goto(try number(try value("a target"), "goto target")))
                case "nop": try setAction(.nop)
                case "blackhole": try setAction(.blackhole)
                case "unreachable": try setAction(.unreachable)
                case "prohibit": try setAction(.prohibit)
                default: throw fail("Unknown rule option \(kind)")
                }
            }
            i += 1
        }
        guard let action else { throw fail("No action specified for rule - ignoring", 0) }
        if tableOption, case .table = action {} else if tableOption {
            throw fail("suppressor/realm specified for non table action - skipping", 0)
        }
        if tracked, let p = protocolNumber, p != 18 {
            problems.append(fail("Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol", 0))
        }
        if tracked { protocolNumber = nil }
        self.problems = problems
        if case .goto(let target) = action {
            guard let p = priority else { throw fail("Invalid rule - goto target \(target) specified without preference", 0) }
            guard p < target else { throw fail("Invalid rule - preference \(p) >= goto target \(target)", 0) }
        }
        self.action = action
        self.family = family ?? AddressFamily.inet
    }

    /// `all`, `any`, `default` or ADDRESS[/LENGTH].
    static func prefix(_ text: String) -> Prefix? {
        if ["all", "any", "default"].contains(text) { return Prefix(address: nil, length: 0) }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let a = IPAddress(String(parts[0])) else { return nil }
        let maximum = a.family == AddressFamily.inet ? 32 : 128
        guard parts.count == 2 else { return Prefix(address: a, length: maximum) }
        guard let n = Int(parts[1]), (0...maximum).contains(n) else { return nil }
        return Prefix(address: a, length: n)
    }

    /// A number up to 127, or a name from /etc/protocols, as keepalived reads it.
    static func ipProtocol(_ text: String) -> UInt8? {
        if let n = UInt8(text) { return n <= 127 ? n : nil }
        guard let entry = getprotobyname(text) else { return nil }
        return UInt8(exactly: entry.pointee.p_proto)
    }

    /// The names iproute2 always knows, or a number.
    static func table(_ text: String) -> UInt32? {
        switch text {
        case "main": 254
        case "local": 255
        case "default": 253
        default: unsigned(text)
        }
    }

    /// Decimal, 0x hexadecimal or 0 octal, as strtoul with base 0 reads it.
    static func unsigned(_ text: String) -> UInt32? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt32(text.dropFirst(2), radix: 16) }
        if text.count > 1, text.hasPrefix("0") { return UInt32(text.dropFirst(), radix: 8) }
        return UInt32(text)
    }
}
