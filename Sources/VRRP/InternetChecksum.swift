/// The Internet checksum (RFC 1071): one's-complement of the one's-complement sum of
/// big-endian 16-bit words, an odd final byte padded with zero.
public struct InternetChecksum {
    private var sum: UInt32 = 0
    private var pending: UInt8?

    public init() {}

    public mutating func add<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        for b in bytes {
            if let hi = pending {
                sum &+= UInt32(hi) << 8 | UInt32(b)
                pending = nil
            } else {
                pending = b
            }
        }
    }

    public var value: UInt16 {
        var s = sum
        if let hi = pending { s &+= UInt32(hi) << 8 }
        while s > 0xffff { s = (s & 0xffff) + (s >> 16) }
        return ~UInt16(s)
    }

    public static func of<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var c = InternetChecksum()
        c.add(bytes)
        return c.value
    }
}
