import IPAddressing

/// One line of `virtual_routes` (spec §3.3), in `ip route add` syntax: installed when the
/// instance becomes MASTER, removed when it leaves.
public struct VirtualRoute: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case unicast, blackhole, unreachable, prohibit }

    public var kind: Kind = .unicast
    /// nil destination = `default`.
    public var destination: IPAddress?
    public var prefix: Int = 0
    public var family: UInt8
    public var gateway: IPAddress?
    public var source: IPAddress?
    public var device: String?
    public var scope: UInt8?
    public var table: UInt32?
    public var metric: UInt32?
    public var onlink = false
    /// `no_track` written.
    public var noTrack = false
    /// A static route's `track_group` (a group defined above it): its instances track the
    /// route's interface. Never set on a virtual route.
    public var trackGroup: String?
    /// Whether keepalived 2.2.7 tracks the route (alloc_route): one with its interface
    /// named and not written `no_track`. Only those are put back when deleted.
    public var tracked: Bool { !noTrack && device != nil }

    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Parses the words of one line, as keepalived.conf's reader split them.
    public init(_ words: [String]) throws(ParseError) {
        var i = 0
        func next(_ what: String) throws(ParseError) -> String {
            i += 1
            guard i < words.count else { throw ParseError(message: "virtual_routes: `\(words[i - 1])' needs \(what)") }
            return words[i]
        }
        func address(_ text: String) throws(ParseError) -> IPAddress {
            guard let a = IPAddress(text) else { throw ParseError(message: "virtual_routes: `\(text)' is not an address") }
            return a
        }
        var dest: String?
        family = AddressFamily.inet
        while i < words.count {
            let w = words[i]
            switch w {
            case "blackhole", "unreachable", "prohibit":
                kind = Kind(rawValue: w)!
            case "src": source = try address(try next("an address"))
            case "via", "gw": gateway = try address(try next("an address"))
            case "dev", "oif": device = try next("an interface")
            case "to": dest = try next("a destination")
            case "onlink": onlink = true
            case "no_track": noTrack = true
            case "inet", "inet6": break
            case "metric", "priority", "preference":
                guard let m = UInt32(try next("a number")) else { throw ParseError(message: "virtual_routes: bad metric in `\(words.joined(separator: " "))'") }
                metric = m
            case "table":
                let t = try next("a table")
                switch t {
                case "main": table = 254
                case "local": table = 255
                case "default": table = 253
                default:
                    guard let n = UInt32(t) else { throw ParseError(message: "virtual_routes: unknown table `\(t)'") }
                    table = n
                }
            case "scope":
                let s = try next("a scope")
                switch s {
                case "global", "universe": scope = 0
                case "site": scope = 200
                case "link": scope = 253
                case "host": scope = 254
                case "nowhere": scope = 255
                default:
                    guard let n = UInt8(s) else { throw ParseError(message: "virtual_routes: unknown scope `\(s)'") }
                    scope = n
                }
            default:
                guard dest == nil else { throw ParseError(message: "virtual_routes: unexpected `\(w)' in `\(words.joined(separator: " "))'") }
                dest = w
            }
            i += 1
        }
        guard let dest else { throw ParseError(message: "virtual_routes: no destination in `\(words.joined(separator: " "))'") }
        if dest == "default" {
            family = (gateway ?? source).map { $0.family } ?? AddressFamily.inet
        } else {
            // Empty parts kept: "/" alone is a bad address, not an empty list of parts.
            let parts = dest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let a = try address(String(parts[0]))
            destination = a
            family = a.family
            let maximum = a.family == AddressFamily.inet ? 32 : 128
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...maximum).contains(p) else {
                    throw ParseError(message: "virtual_routes: bad prefix in `\(dest)'")
                }
                prefix = p
            } else {
                prefix = maximum
            }
        }
        if let g = gateway, g.family != family { throw ParseError(message: "virtual_routes: gateway \(g) is not of the destination's family") }
    }
}
