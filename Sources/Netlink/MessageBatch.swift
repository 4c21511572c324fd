/// Many netlink messages laid end to end in one buffer, sent with one sendmsg. The
/// kernel processes them in order and answers each by its sequence number, so the batch
/// remembers which sequence belongs to which message.
public struct MessageBatch {
    public private(set) var bytes: [UInt8] = []
    public private(set) var sequences: [UInt32] = []
    public var count: Int { sequences.count }
    public var isEmpty: Bool { sequences.isEmpty }

    public init() {}

    /// Appends one message. `body` writes the family header and attributes after the
    /// nlmsghdr; the header's length is filled in afterwards.
    public mutating func append(
        type: UInt16, flags: NetlinkFlags, sequence: UInt32, portID: UInt32 = 0,
        body: (inout AttributeEncoder) -> Void
    ) {
        var encoder = AttributeEncoder(bytes: bytes)
        bytes = []
        let start = encoder.bytes.count
        encoder.bytes.append(contentsOf: repeatElement(0, count: NetlinkHeader.size))
        body(&encoder)
        while encoder.bytes.count % 4 != 0 { encoder.bytes.append(0) }
        let header = NetlinkHeader(
            length: UInt32(encoder.bytes.count - start), type: type, flags: flags,
            sequence: sequence, portID: portID)
        NetlinkHeaderCodec.write(header, into: &encoder.bytes, at: start)
        bytes = encoder.bytes
        sequences.append(sequence)
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
        sequences.removeAll(keepingCapacity: keepingCapacity)
    }
}

public enum NetlinkHeaderCodec {
    public static func write(_ h: NetlinkHeader, into bytes: inout [UInt8], at offset: Int) {
        func put32(_ v: UInt32, _ at: Int) {
            bytes[at] = UInt8(v & 0xff); bytes[at + 1] = UInt8((v >> 8) & 0xff)
            bytes[at + 2] = UInt8((v >> 16) & 0xff); bytes[at + 3] = UInt8(v >> 24)
        }
        put32(h.length, offset)
        bytes[offset + 4] = UInt8(h.type & 0xff); bytes[offset + 5] = UInt8(h.type >> 8)
        bytes[offset + 6] = UInt8(h.flags.rawValue & 0xff); bytes[offset + 7] = UInt8(h.flags.rawValue >> 8)
        put32(h.sequence, offset + 8)
        put32(h.portID, offset + 12)
    }

    public static func read(_ bytes: [UInt8], at o: Int) -> NetlinkHeader {
        func get32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        return NetlinkHeader(
            length: get32(o), type: UInt16(bytes[o + 4]) | UInt16(bytes[o + 5]) << 8,
            flags: NetlinkFlags(rawValue: UInt16(bytes[o + 6]) | UInt16(bytes[o + 7]) << 8),
            sequence: get32(o + 8), portID: get32(o + 12))
    }
}
