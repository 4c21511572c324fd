#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import IPAddressing

/// `Filter [From Userspace|Kernelspace] { Protocol … Address … State … }`: which flows
/// are replicated. conntrackd skips an unknown protocol or a malformed address with a
/// warning, and the filter then selects other flows than the file says; here each is an
/// error on its line.
extension ConntrackdConfigParser {
    mutating func filter(_ opener: Token) throws(ConfigError) -> ConntrackdConfiguration.Filter {
        var f = ConntrackdConfiguration.Filter()
        if let t = s.peek, t.kind == .word, t.text == "From" {
            _ = s.next()
            let w = try s.word("Userspace or Kernelspace")
            switch w.text {
            case "Userspace": f.source = .userspace
            case "Kernelspace": f.source = .kernelspace
            default: throw s.error("syntax error: `From' takes Userspace or Kernelspace", at: w)
            }
        }
        try open(opener)
        while try !closes(opener) {
            let k = try s.word("Protocol, Address or State")
            guard ["Protocol", "Address", "State"].contains(k.text) else { throw unknown(k, in: "Filter") }
            let policyToken = try s.word("Accept or Ignore")
            guard let policy = ConntrackdConfiguration.Policy(rawValue: policyToken.text) else {
                throw s.error("syntax error: `\(k.text)' takes Accept or Ignore", at: policyToken)
            }
            try open(policyToken)
            switch k.text {
            case "Protocol":
                f.protocolPolicy = policy
                while try !closes(k) { f.protocolNumbers.append(try protocolName()) }
            case "Address":
                f.addressPolicy = policy
                while try !closes(k) { f.addresses.append(try networkPrefix()) }
            default:
                f.statePolicy = policy
                try states(k, into: &f.states)
            }
        }
        return f
    }

    /// A protocol by its name in /etc/protocols, exactly as getprotobyname(3) finds it
    /// (conntrackd's look-up; `TCP` and `UDP` are its own keywords).
    private mutating func protocolName() throws(ConfigError) -> UInt8 {
        let name = try s.word("a protocol name")
        if name.text.first?.isNumber == true {
            throw s.error("syntax error: a protocol is named as in /etc/protocols (tcp, udp, icmp …), not numbered", at: name)
        }
        guard let n = Self.protocolNumber(name.text) else {
            throw s.error("unknown protocol: getprotobyname() cannot find it in /etc/protocols", at: name)
        }
        return n
    }

    static func protocolNumber(_ name: String) -> UInt8? {
        if name == "TCP" { return IPProtocolNumber.tcp }
        if name == "UDP" { return IPProtocolNumber.udp }
        var entry = protoent()
        var buffer = [CChar](repeating: 0, count: 4096)
        var found: UnsafeMutablePointer<protoent>?
        let rc = getprotobyname_r(name, &entry, &buffer, buffer.count, &found)
        guard rc == 0, found != nil, (0 ... 255).contains(entry.p_proto) else { return nil }
        return UInt8(entry.p_proto)
    }

    /// `IPv4_address A[/N]` or `IPv6_address A[/N]`.
    private mutating func networkPrefix() throws(ConfigError) -> ConntrackdConfiguration.NetworkPrefix {
        let kind = try s.word("IPv4_address or IPv6_address")
        let family: UInt8
        switch kind.text {
        case "IPv4_address": family = AddressFamily.inet
        case "IPv6_address": family = AddressFamily.inet6
        default: throw unknown(kind, in: "Address (IPv4_address or IPv6_address)")
        }
        let t = try s.word("an address")
        let parts = t.text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let full = family == AddressFamily.inet ? 32 : 128
        let familyName = family == AddressFamily.inet ? "IPv4" : "IPv6"
        guard let a = IPAddress(parts[0]), a.family == family else {
            throw s.error("`\(kind.text)' takes an \(familyName) address or network (A/N)", at: t)
        }
        var prefix = full
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let p = Int(parts[1]), p <= full else {
                throw s.error("bad prefix length: an \(familyName) network takes /0 to /\(full)", at: t)
            }
            prefix = p
        }
        return ConntrackdConfiguration.NetworkPrefix(address: a, prefix: prefix)
    }

    static let stateNames: [String: TCPState] = [
        "SYN_SENT": .synSent, "SYN_RECV": .synReceived, "ESTABLISHED": .established, "FIN_WAIT": .finWait,
        "CLOSE_WAIT": .closeWait, "LAST_ACK": .lastAck, "TIME_WAIT": .timeWait, "CLOSE": .close, "CLOSED": .close,
        // conntrackd's LISTEN is the kernel's ninth TCP state (SYN_SENT2's number).
        "LISTEN": .synSent2,
    ]

    /// `STATE … for TCP`, one or more times: conntrackd's grammar requires the `for TCP`.
    private mutating func states(_ opener: Token, into states: inout [TCPState]) throws(ConfigError) {
        var pending: Token?
        while try !closes(opener) {
            let name = try s.word("a TCP state")
            if name.text == "for" {
                let proto = try s.word("TCP")
                guard proto.text == "TCP" else { throw s.error("syntax error: states are for TCP only (`for TCP')", at: proto) }
                pending = nil
                continue
            }
            guard let state = Self.stateNames[name.text] else {
                throw s.error("unknown TCP state (SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE, CLOSED, LISTEN)", at: name)
            }
            states.append(state)
            if pending == nil { pending = name }
        }
        if let pending { throw s.error("syntax error: the states end with `for TCP'", at: pending) }
    }
}
