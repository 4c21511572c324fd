/// Non-accept mode for IPv6 addresses, as keepalived 2.2.7's vrrp_nftables.c builds it in
/// the `ip6` table (nft_setup_ipv6_vips, setup_link_local_checks, nft_update_ipv6_address):
/// chains `in` and `out` let neighbour discovery through (set `neighbor-discovery`), send
/// link-local traffic to `in_link_local` / `out_link_local`, and drop the rest to or from
/// set `vips`. A link-local address is only that address on its interface: set
/// `vips_link_local` (address . interface index) or, for an instance with
/// dont_track_primary whose address is on its own interface or written `no_track`,
/// `vips_link_local_name` (address . interface name) unless global_defs has
/// nftables_ifindex. Each link-local set and its two rules are made with its first element.
extension VIPFirewall {
    struct IPv6Drop: Hashable, Sendable {
        /// Global addresses, in nft's form.
        var global: [String] = []
        /// Link-local ones: address, interface, and whether the set is by name.
        var linkLocal: [LinkLocal] = []
        var isEmpty: Bool { global.isEmpty && linkLocal.isEmpty }
    }

    struct LinkLocal: Hashable, Sendable {
        var address: String
        var interface: String
        var byName: Bool
        var set: String { byName ? "vips_link_local_name" : "vips_link_local" }
        var element: String { "\(address) . \"\(interface)\"" }
    }

    mutating func drop6(_ d: IPv6Drop) -> String? {
        guard !d.isEmpty, d.linkLocal.allSatisfy({ Self.plainName($0.interface) }) else { return nil }
        var lines = table("ip6")
        let t = settings.table
        if !vips6Built {
            lines += [
                "add chain ip6 \(t) in \(base("input"))",
                "add chain ip6 \(t) in_link_local",
                "add chain ip6 \(t) out_link_local",
                "add set ip6 \(t) vips { type ipv6_addr; }",
                "add set ip6 \(t) neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert }; }",
                "add rule ip6 \(t) in icmpv6 type @neighbor-discovery \(counter)accept",
                "add rule ip6 \(t) in ip6 daddr fe80::/10 \(counter)goto in_link_local",
                "add rule ip6 \(t) in ip6 daddr @vips \(counter)drop",
                "add rule ip6 \(t) out icmpv6 type @neighbor-discovery \(counter)accept",
                "add rule ip6 \(t) out ip6 saddr fe80::/10 \(counter)goto out_link_local",
                "add rule ip6 \(t) out ip6 saddr @vips \(counter)drop",
            ]
            vips6Built = true
        }
        for l in d.linkLocal where !linkLocalSets.contains(l.set) {
            let (type, iif, oif) = l.byName ? ("ifname", "iifname", "oifname") : ("iface_index", "iif", "oif")
            lines += [
                "add set ip6 \(t) \(l.set) { type ipv6_addr . \(type); }",
                "add rule ip6 \(t) in_link_local ip6 daddr . \(iif) @\(l.set) \(counter)drop",
                "add rule ip6 \(t) out_link_local ip6 saddr . \(oif) @\(l.set) \(counter)drop",
            ]
            linkLocalSets.insert(l.set)
        }
        lines += elements("add", d)
        return lines.joined(separator: "\n") + "\n"
    }

    func release6(_ d: IPv6Drop) -> String? {
        guard vips6Built, !d.isEmpty else { return nil }
        let lines = elements("delete", d)
        return lines.isEmpty ? nil : lines.joined(separator: "\n") + "\n"
    }

    private func elements(_ verb: String, _ d: IPv6Drop) -> [String] {
        let t = settings.table
        var lines: [String] = []
        if !d.global.isEmpty { lines.append("\(verb) element ip6 \(t) vips { \(d.global.joined(separator: ", ")) }") }
        for set in ["vips_link_local", "vips_link_local_name"] {
            let mine = d.linkLocal.filter { $0.set == set }
            if !mine.isEmpty { lines.append("\(verb) element ip6 \(t) \(set) { \(mine.map(\.element).joined(separator: ", ")) }") }
        }
        return lines
    }
}
