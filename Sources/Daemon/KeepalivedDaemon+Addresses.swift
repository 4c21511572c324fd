import ConfigParsing
import IPAddressing
import Netlink

/// How keepalived 2.2.7 adds a virtual or static address (vrrp_ipaddress.c): an IPv6 one
/// skips duplicate address detection unless written `-nodad`, and carries its preferred
/// lifetime (a /128 is deprecated by default); a label is IPv4's only.
extension KeepalivedDaemon {
    func addAddress(_ v: KeepalivedConfiguration.VirtualAddress, interface: UInt32) throws {
        try addresses.add(v.address.bytes, prefix: UInt8(v.prefix), interface: interface,
                          label: v.address.family == AddressFamily.inet ? v.label : nil, nodad: v.addedWithoutDAD,
                          scope: v.scopeNumber, preferredLifetime: v.kernelPreferredLifetime)
    }
}
