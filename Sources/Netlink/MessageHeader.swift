/// nlmsghdr: 16 bytes in host byte order.
public struct NetlinkHeader: Hashable, Sendable {
    public static let size = 16

    public var length: UInt32
    public var type: UInt16
    public var flags: NetlinkFlags
    public var sequence: UInt32
    public var portID: UInt32

    public init(length: UInt32 = 0, type: UInt16, flags: NetlinkFlags, sequence: UInt32 = 0, portID: UInt32 = 0) {
        self.length = length
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
    }

    public var isError: Bool { type == NetlinkMessageType.error }
    public var isDone: Bool { type == NetlinkMessageType.done }
}

@inline(__always)
public func netlinkAlign(_ n: Int) -> Int { (n + 3) & ~3 }
