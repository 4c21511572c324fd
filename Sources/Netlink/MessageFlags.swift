/// nlmsghdr.nlmsg_flags. Several bits are reused with different meanings for GET and NEW
/// requests, hence the aliases.
public struct NetlinkFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let request = NetlinkFlags(rawValue: 0x001)
    public static let multipart = NetlinkFlags(rawValue: 0x002)
    public static let ack = NetlinkFlags(rawValue: 0x004)
    public static let echo = NetlinkFlags(rawValue: 0x008)
    public static let dumpInterrupted = NetlinkFlags(rawValue: 0x010)
    public static let dumpFiltered = NetlinkFlags(rawValue: 0x020)

    // GET requests
    public static let root = NetlinkFlags(rawValue: 0x100)
    public static let match = NetlinkFlags(rawValue: 0x200)
    public static let dump: NetlinkFlags = [.root, .match]

    // NEW requests
    public static let replace = NetlinkFlags(rawValue: 0x100)
    public static let excl = NetlinkFlags(rawValue: 0x200)
    public static let create = NetlinkFlags(rawValue: 0x400)
    public static let append = NetlinkFlags(rawValue: 0x800)

    // NLMSG_ERROR replies
    public static let capped = NetlinkFlags(rawValue: 0x100)
    public static let ackTLVs = NetlinkFlags(rawValue: 0x200)
}
