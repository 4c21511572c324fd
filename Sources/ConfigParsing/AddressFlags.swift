/// The IFA_F_* flags a keepalived address line can carry (vrrp_ipaddress.c's words), with
/// the kernel's values so the daemon hands them to RTM_NEWADDR unchanged.
///
/// keepalived sets each word's flag whatever the address family and leaves the verdict to
/// the kernel: an IPv4 address keeps `noprefixroute` and `autojoin` but drops `home` and
/// `mngtmpaddr`; `autojoin` on an address that is not multicast, and `mngtmpaddr` on an
/// IPv6 prefix other than /64, make the kernel refuse the address (EINVAL).
public struct AddressFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// IFA_F_NODAD: keepalived's default on every IPv6 address, not a word of its own.
    public static let noDAD = AddressFlags(rawValue: 0x02)
    /// IFA_F_HOMEADDRESS (Mobile IPv6's home address).
    public static let homeAddress = AddressFlags(rawValue: 0x10)
    /// IFA_F_MANAGETEMPADDR: the kernel makes privacy addresses from this /64.
    public static let manageTemporaryAddresses = AddressFlags(rawValue: 0x100)
    /// IFA_F_NOPREFIXROUTE: no route for the address's prefix.
    public static let noPrefixRoute = AddressFlags(rawValue: 0x200)
    /// IFA_F_MCAUTOJOIN: the interface joins the multicast group the address is.
    public static let multicastAutoJoin = AddressFlags(rawValue: 0x400)

    /// The words, in the order keepalived's data dump writes them.
    public static let words: [(String, AddressFlags)] = [
        ("home", .homeAddress), ("mngtmpaddr", .manageTemporaryAddresses),
        ("noprefixroute", .noPrefixRoute), ("autojoin", .multicastAutoJoin),
    ]

    public static func named(_ word: String) -> AddressFlags? { words.first { $0.0 == word }?.1 }
}
