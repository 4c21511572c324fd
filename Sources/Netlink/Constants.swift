// Values from the kernel UAPI (linux/netlink.h). Glibc does not export them, so they are
// spelled out here and cross-checked against the headers in NetlinkTests.
public enum NetlinkProtocol {
    public static let route: Int32 = 0
    public static let netfilter: Int32 = 12
}

public enum NetlinkMessageType {
    public static let noop: UInt16 = 1
    public static let error: UInt16 = 2
    public static let done: UInt16 = 3
    public static let overrun: UInt16 = 4
    /// Types below this are netlink's own control messages.
    public static let minimumFamilyType: UInt16 = 0x10
}

public enum NetlinkSocketOption {
    public static let addMembership: Int32 = 1
    public static let dropMembership: Int32 = 2
    public static let broadcastError: Int32 = 4
    public static let noENOBUFS: Int32 = 5
    public static let capAck: Int32 = 10
    public static let extendedAck: Int32 = 11
    public static let getStrictCheck: Int32 = 12
}

/// Attributes of the extended-ACK TLVs that follow an NLMSG_ERROR (NLMSGERR_ATTR_*).
public enum ExtendedAckAttribute {
    public static let message: UInt16 = 1
    public static let offset: UInt16 = 2
}

public enum AttributeFlag {
    public static let nested: UInt16 = 0x8000
    public static let networkByteOrder: UInt16 = 0x4000
    public static let typeMask: UInt16 = 0x3fff
}
