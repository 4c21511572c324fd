/// Address families as the kernel numbers them (AF_*), as one byte: the width netlink and
/// conntrackd's wire format carry.
public enum AddressFamily {
    public static let unspecified: UInt8 = 0
    public static let inet: UInt8 = 2
    public static let inet6: UInt8 = 10
}

/// IP protocol numbers (IANA), for the protocols conntrack tracks.
public enum IPProtocolNumber {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let dccp: UInt8 = 33
    public static let gre: UInt8 = 47
    public static let icmpv6: UInt8 = 58
    public static let sctp: UInt8 = 132
    public static let udplite: UInt8 = 136
}
