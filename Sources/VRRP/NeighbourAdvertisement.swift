import IPAddressing

/// The unsolicited Neighbour Advertisement keepalived sends for an IPv6 VIP (the IPv6
/// counterpart of its gratuitous ARP, vector V6): from the VIP itself to all nodes, hop
/// limit 255, Override set so neighbours replace the old router's MAC, a Target
/// Link-Layer Address option carrying ours.
public enum NeighbourAdvertisement {
    public static let allNodes = IPAddress("ff02::1")!

    /// `router`: the interface forwards IPv6 (keepalived sets the Router flag only then).
    public static func frame(mac: [UInt8], address: IPAddress, router: Bool) -> [UInt8] {
        let group = allNodes.bytes
        var icmp: [UInt8] = [136, 0, 0, 0, (router ? 0x80 : 0) | 0x20, 0, 0, 0]
        icmp += address.bytes
        icmp += [2, 1] + mac
        var sum = InternetChecksum()
        sum.add(address.bytes)
        sum.add(group)
        sum.add([0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xff), 0, 0, 0, 58])
        sum.add(icmp)
        let c = sum.value
        icmp[2] = UInt8(c >> 8)
        icmp[3] = UInt8(c & 0xff)
        var f: [UInt8] = [0x33, 0x33] + group.suffix(4) + mac + [0x86, 0xdd]
        f += [0x60, 0, 0, 0, UInt8(icmp.count >> 8), UInt8(icmp.count & 0xff), 58, 255]
        f += address.bytes + group + icmp
        return f
    }
}
