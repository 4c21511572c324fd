import IPAddressing

/// keepalived 2.2.7's non-accept mode and its global_defs (global_parser.c, vrrp.c):
/// where the drop rules live, and which instances need them. Debian builds keepalived
/// with nftables and without iptables, so `vrrp_iptables` means the default nftables table.
extension KeepalivedConfigParser {
    mutating func firewallSetting(_ n: Node) {
        let a = n.arguments
        switch n.keyword.text {
        case "vrrp_iptables":
            tolerate("iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option", n.keyword)
            config.firewall.table = "keepalived"
            config.firewall.chainPriority = -1
            config.firewall.configured = true
        case "nftables":
            if config.firewall.configured { tolerate("nftables already specified - ignoring", n.keyword); return }
            let name = a.first?.text ?? "keepalived"
            if name.utf8.count >= 256 { tolerate("nftables table name too long - ignoring", a[0]); return }
            // keepalived sends the name in netlink; Tandem writes it into an nft script,
            // whose grammar takes identifiers only.
            guard Self.isNftIdentifier(name) else {
                unsupported("nftables table name `\(name)' (tandem drives nft, whose names are letters, digits, `_', `-' and `.', starting with a letter)", a[0])
                return
            }
            config.firewall.table = name
            // keepalived resets the priority here, even one set on an earlier line.
            config.firewall.chainPriority = -1
            config.firewall.configured = true
        case "nftables_priority":
            guard let s = a.first?.text, let p = Int32(s) else {
                tolerate("invalid nftables chain priority '\(a.first?.text ?? "")'", a.first ?? n.keyword); return
            }
            config.firewall.chainPriority = p
        case "nftables_ifindex":
            config.firewall.linkLocalByIndex = true
        default:
            config.firewall.counters = true
        }
    }

    static func isNftIdentifier(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f.isASCII, f.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) }
    }

    /// An instance in non-accept mode that is not the address owner drops traffic to its
    /// addresses while MASTER, IPv4 and IPv6 (VIPFirewall, VIPFirewall+IPv6).
    mutating func resolveAcceptMode(_ v: inout KeepalivedConfiguration.Instance, accept: Bool, at: Token) {
        v.acceptMode = accept
        v.dropsTrafficAsMaster = !accept && v.effectivePriority != 255
    }
}
