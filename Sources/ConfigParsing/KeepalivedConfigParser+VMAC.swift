import IPAddressing

/// keepalived 2.2.7's use_vmac (vrrp_parser.c, vrrp.c): the instance moves onto a macvlan
/// of its interface that carries the VRRP MAC, named vrrp.VRID unless a name is given.
/// A MAC of one's own (the other form of the argument) and IPv6 instances are not built.
extension KeepalivedConfigParser {
    mutating func useVMAC(_ c: Node, into v: inout KeepalivedConfiguration.Instance) {
        v.vmacName = ""
        v.vmacLocation = c.keyword.location
        for a in c.arguments.prefix(2) {
            if a.text.contains(":") {
                unsupported("use_vmac with a MAC address of its own", a)
            } else if a.text.utf8.count >= 16 {
                tolerate("VMAC interface name '\(a.text)' too long or invalid characters - ignoring", a)
            } else {
                v.vmacName = a.text
            }
        }
    }

    /// Once the instance is read: the default name, and what Tandem does not build.
    mutating func resolveVMAC(_ v: inout KeepalivedConfiguration.Instance) {
        guard let name = v.vmacName, let location = v.vmacLocation else { return }
        let at = Token(kind: .word, text: "use_vmac", location: location, startsLine: true)
        if name.isEmpty, let id = v.virtualRouterID { v.vmacName = "vrrp.\(id)" }
        if v.virtualAddresses.first?.address.family == AddressFamily.inet6 || v.unicastSource?.family == AddressFamily.inet6 {
            unsupported("use_vmac for an IPv6 instance (\(v.name))", at)
        }
        if !v.unicastPeers.isEmpty { unsupported("use_vmac with unicast peers (\(v.name))", at) }
        v.virtualAddresses = v.virtualAddresses.map { onVMAC($0, of: v) }
        v.excludedAddresses = v.excludedAddresses.map { onVMAC($0, of: v) }
    }

    /// Where keepalived 2.2.7 puts an address of a use_vmac instance (vrrp.c, the VIP
    /// checks of vrrp_complete_instance): one without `dev`, or with `dev` of the
    /// instance's own interface, goes on the VMAC (no device: the instance's home) when it
    /// is of the instance's family (IPv4: an IPv6 instance is refused), else on the base
    /// interface itself; one naming another interface stays there.
    func onVMAC(_ a: KeepalivedConfiguration.VirtualAddress, of v: KeepalivedConfiguration.Instance) -> KeepalivedConfiguration.VirtualAddress {
        guard a.device == nil || a.device == v.interface else { return a }
        var moved = a
        moved.device = a.address.family == AddressFamily.inet ? nil : v.interface
        return moved
    }
}
