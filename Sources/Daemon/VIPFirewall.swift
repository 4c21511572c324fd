import ConfigParsing

/// keepalived 2.2.7's nftables rules as nft scripts (vrrp_nftables.c), in an `ip` table
/// (default "keepalived") built on first use — removing any table of that name an earlier
/// run left in either family — and deleted at exit. Two parts, each built when first
/// needed: non-accept mode's set `vips` (the addresses of every master that is not their
/// owner) with chains `in` and `out` dropping traffic to and from them; and use_vmac's map
/// `vmac_map` (macvlan → base interface) with the `out` rule that sends IGMP leaving a
/// macvlan out of its base interface instead; an IPv6 VMAC's the same for MLD in an `ip6`
/// table, which also drops its router solicitations. Pure: the daemon runs the scripts.
struct VIPFirewall {
    let settings: FirewallSettings
    /// Whether this run has built the table (and so must delete it at exit).
    private(set) var built = false
    private var vipsBuilt = false
    private var vmacBuilt = false
    private var vmac6Built = false
    /// IPv6 non-accept mode (VIPFirewall+IPv6): the table's chains and sets, and each
    /// link-local set, once built.
    var vips6Built = false
    var linkLocalSets: Set<String> = []
    /// The families whose table this run made ("ip", "ip6"), in the order made.
    private var families: [String] = []

    init(_ settings: FirewallSettings) { self.settings = settings }

    /// The script that starts dropping `addresses` (IPv4, in nft's dotted form).
    mutating func drop(_ addresses: [String]) -> String? {
        guard !addresses.isEmpty else { return nil }
        var lines = table("ip")
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
        var lines = table("ip")
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

    /// An IPv6 VMAC's: its MLD reports sent out of `base` (the `ip6` table's `vmac_map`)
    /// and its router solicitations dropped (`vmac_set`), as keepalived's nft_add_vmac
    /// does for an IPv6 instance.
    mutating func routeMLD(vmac: String, base: String) -> String? {
        guard Self.plainName(vmac) && Self.plainName(base) else { return nil }
        var lines = table("ip6")
        let t = settings.table
        if !vmac6Built {
            lines += [
                "add map ip6 \(t) vmac_map { type iface_index : iface_index; }",
                "add set ip6 \(t) vmac_set { type iface_index; }",
                "add rule ip6 \(t) out icmpv6 type mld2-listener-report meta oifkind \"macvlan\" \(counter)dup to ip6 daddr device oif map @vmac_map drop",
                "add rule ip6 \(t) out icmpv6 type nd-router-solicit meta oifkind \"macvlan\" oif @vmac_set \(counter)drop",
            ]
            vmac6Built = true
        }
        lines += ["add element ip6 \(t) vmac_map { \"\(vmac)\" : \"\(base)\" }", "add element ip6 \(t) vmac_set { \"\(vmac)\" }"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// At exit: the tables go, as keepalived's nft_end removes them.
    mutating func teardown() -> String? {
        guard built else { return nil }
        let script = families.map { "delete table \($0) \(settings.table)\n" }.joined()
        built = false
        vipsBuilt = false
        vmacBuilt = false
        vmac6Built = false
        vips6Built = false
        linkLocalSets = []
        families = []
        return script.isEmpty ? nil : script
    }

    /// The family's table and its `out` chain, the first time; keepalived's order, so
    /// that `nft list ruleset` reads the same. The very first time, an earlier run's
    /// tables of that name go, in both families: adding a table before deleting it removes
    /// one that may or may not be there within the same transaction.
    mutating func table(_ family: String) -> [String] {
        var lines: [String] = []
        let t = settings.table
        if !built {
            built = true
            lines += ["add table ip \(t)", "delete table ip \(t)", "add table ip6 \(t)", "delete table ip6 \(t)"]
        }
        if !families.contains(family) {
            families.append(family)
            lines += ["add table \(family) \(t)", "add chain \(family) \(t) out \(base("output"))"]
        }
        return lines
    }

    func base(_ hook: String) -> String { "{ type filter hook \(hook) priority \(settings.chainPriority); policy accept; }" }
    var counter: String { settings.counters ? "counter " : "" }

    /// Interface names nft can take between quotes.
    static func plainName(_ s: String) -> Bool { !s.isEmpty && !s.contains("\"") && !s.contains("\n") }
}
