import ConfigParsing

/// keepalived 2.2.7's nftables rules as nft scripts (vrrp_nftables.c), in an `ip` table
/// (default "keepalived") built on first use — removing any table of that name an earlier
/// run left in either family — and deleted at exit. Two parts, each built when first
/// needed: non-accept mode's set `vips` (the addresses of every master that is not their
/// owner) with chains `in` and `out` dropping traffic to and from them; and use_vmac's map
/// `vmac_map` (macvlan → base interface) with the `out` rule that sends IGMP leaving a
/// macvlan out of its base interface instead. Pure: the daemon runs the scripts.
struct VIPFirewall {
    let settings: FirewallSettings
    /// Whether this run has built the table (and so must delete it at exit).
    private(set) var built = false
    private var vipsBuilt = false
    private var vmacBuilt = false

    init(_ settings: FirewallSettings) { self.settings = settings }

    /// The script that starts dropping `addresses` (IPv4, in nft's dotted form).
    mutating func drop(_ addresses: [String]) -> String? {
        guard !addresses.isEmpty else { return nil }
        var lines = table()
        let t = settings.table
        if !vipsBuilt {
            lines += [
                "add chain ip \(t) in \(base("input"))",
                "add set ip \(t) vips { type ipv4_addr; }",
                "add rule ip \(t) in ip daddr @vips \(counter)drop",
                "add rule ip \(t) out ip saddr @vips \(counter)drop",
            ]
            vipsBuilt = true
        }
        lines.append("add element ip \(t) vips { \(addresses.joined(separator: ", ")) }")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The script that lets traffic to `addresses` through again.
    func release(_ addresses: [String]) -> String? {
        guard vipsBuilt, !addresses.isEmpty else { return nil }
        return "delete element ip \(settings.table) vips { \(addresses.joined(separator: ", ")) }\n"
    }

    /// The script that sends `vmac`'s IGMP out of `base`.
    mutating func routeIGMP(vmac: String, base: String) -> String? {
        guard Self.plainName(vmac) && Self.plainName(base) else { return nil }
        var lines = table()
        let t = settings.table
        if !vmacBuilt {
            lines += [
                "add map ip \(t) vmac_map { type iface_index : iface_index; }",
                "add rule ip \(t) out ip protocol igmp meta oifkind \"macvlan\" \(counter)dup to ip daddr device oif map @vmac_map drop",
            ]
            vmacBuilt = true
        }
        lines.append("add element ip \(t) vmac_map { \"\(vmac)\" : \"\(base)\" }")
        return lines.joined(separator: "\n") + "\n"
    }

    /// At exit: the table goes, as keepalived's nft_end removes it.
    mutating func teardown() -> String? {
        guard built else { return nil }
        built = false
        vipsBuilt = false
        vmacBuilt = false
        return "delete table ip \(settings.table)\n"
    }

    /// The table and its `out` chain, the first time; keepalived's order, so that
    /// `nft list ruleset` reads the same. Adding a table before deleting it removes one
    /// that may or may not be there within the same transaction.
    private mutating func table() -> [String] {
        guard !built else { return [] }
        built = true
        let t = settings.table
        return ["add table ip \(t)", "delete table ip \(t)", "add table ip6 \(t)", "delete table ip6 \(t)",
                "add table ip \(t)", "add chain ip \(t) out \(base("output"))"]
    }

    private func base(_ hook: String) -> String { "{ type filter hook \(hook) priority \(settings.chainPriority); policy accept; }" }
    private var counter: String { settings.counters ? "counter " : "" }

    /// Interface names nft can take between quotes.
    static func plainName(_ s: String) -> Bool { !s.isEmpty && !s.contains("\"") && !s.contains("\n") }
}
