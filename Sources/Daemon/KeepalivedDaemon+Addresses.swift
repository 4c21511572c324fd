#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import IPAddressing
import Netlink

/// How keepalived 2.2.7 adds a virtual or static address (vrrp_ipaddress.c): an IPv6 one
/// skips duplicate address detection unless written `-nodad`, and carries its preferred
/// lifetime (a /128 is deprecated by default); a label and a broadcast are IPv4's only;
/// the flag words go as IFA_FLAGS and a peer as IFA_ADDRESS.
extension KeepalivedDaemon {
    func addAddress(_ v: KeepalivedConfiguration.VirtualAddress, interface: UInt32) throws {
        let inet = v.address.family == AddressFamily.inet
        try addresses.add(v.address.bytes, prefix: UInt8(v.prefix), interface: interface,
                          label: inet ? v.label : nil, broadcast: inet ? v.broadcast?.bytes : nil, peer: v.peer?.bytes,
                          flags: v.kernelFlags.rawValue, scope: v.scopeNumber, preferredLifetime: v.kernelPreferredLifetime)
    }

    /// Adds one of the instance's addresses, remembering a refusal as keepalived's `set`
    /// flag does (the data dump writes `set` only on an address the kernel took): the
    /// kernel refuses some flag words outright (autojoin on a unicast address).
    func setAddress(_ v: KeepalivedConfiguration.VirtualAddress, of i: Instance) {
        do {
            try addAddress(v, interface: vipIndex(i, v))
            i.refusedAddresses.remove(v)
        } catch let e as NetlinkKernelError where e.errno == EEXIST {
            // Already there (put back by hand, or left by a run that died): held all the same.
            i.refusedAddresses.remove(v)
            log("(\(i.config.name)) cannot add \(v.address): \(e)")
        } catch {
            i.refusedAddresses.insert(v)
            actionFailed("address add", "(\(i.config.name)) cannot add \(v.address): \(error)")
        }
    }

    /// Unlike keepalived 2.2.7, whose delete names an IPv4 point-to-point address by the
    /// address itself and so never matches it (the address stays behind after a stop),
    /// the peer identifies it.
    func removeAddress(_ v: KeepalivedConfiguration.VirtualAddress, interface: UInt32) throws {
        try addresses.remove(v.address.bytes, prefix: UInt8(v.prefix), interface: interface, peer: v.peer?.bytes)
    }
}
