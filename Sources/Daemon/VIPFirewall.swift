import ConfigParsing

/// keepalived 2.2.7's non-accept mode as nft scripts (vrrp_nftables.c): an `ip` table
/// (default "keepalived") whose set `vips` holds the addresses of every master that is
/// not their owner, with base chains `in` and `out` dropping traffic to and from them.
/// Like keepalived, the table is built on first use — removing any table of that name
/// an earlier run left in either family — emptied element by element as masters step
/// down, and deleted at exit. Pure: the daemon runs the scripts (NftCommand).
struct VIPFirewall {
    let settings: FirewallSettings
    /// Whether this run has built the table (and so must delete it at exit).
    private(set) var built = false

    init(_ settings: FirewallSettings) { self.settings = settings }

    /// The script that starts dropping `addresses` (IPv4, in nft's dotted form).
    mutating func drop(_ addresses: [String]) -> String? {
        guard !addresses.isEmpty else { return nil }
        var lines: [String] = []
        if !built { lines += setup() }
        built = true
        lines.append("add element ip \(settings.table) vips { \(addresses.joined(separator: ", ")) }")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The script that lets traffic to `addresses` through again.
    func release(_ addresses: [String]) -> String? {
        guard built, !addresses.isEmpty else { return nil }
        return "delete element ip \(settings.table) vips { \(addresses.joined(separator: ", ")) }\n"
    }

    /// At exit: the table goes, as keepalived's nft_end removes it.
    mutating func teardown() -> String? {
        guard built else { return nil }
        built = false
        return "delete table ip \(settings.table)\n"
    }

    /// The table in keepalived's order (chain `out` before `in`, then the set and the two
    /// rules), so `nft list ruleset` reads the same. Adding a table before deleting it
    /// removes one that may or may not be there within the same transaction.
    private func setup() -> [String] {
        let t = settings.table
        func base(_ hook: String) -> String { "{ type filter hook \(hook) priority \(settings.chainPriority); policy accept; }" }
        let counter = settings.counters ? "counter " : ""
        return [
            "add table ip \(t)", "delete table ip \(t)",
            "add table ip6 \(t)", "delete table ip6 \(t)",
            "add table ip \(t)",
            "add chain ip \(t) out \(base("output"))",
            "add chain ip \(t) in \(base("input"))",
            "add set ip \(t) vips { type ipv4_addr; }",
            "add rule ip \(t) in ip daddr @vips \(counter)drop",
            "add rule ip \(t) out ip saddr @vips \(counter)drop",
        ]
    }
}
