/// conntrackd's message types: the low nibble of a message's first byte.
public enum SyncMessageType: UInt8, Sendable {
    case flowNew = 0, flowUpdate = 1, flowDestroy = 2
    case expectationNew = 3, expectationUpdate = 4, expectationDestroy = 5
    case control = 10

    public var isFlow: Bool { rawValue <= 2 }
    public var isExpectation: Bool { rawValue >= 3 && rawValue <= 5 }
}

/// Byte 1 of the header.
public struct SyncFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let resync = SyncFlags(rawValue: 0x02)
    public static let nack = SyncFlags(rawValue: 0x04)
    public static let ack = SyncFlags(rawValue: 0x08)
    public static let alive = SyncFlags(rawValue: 0x10)
    public static let hello = SyncFlags(rawValue: 0x20)
    public static let helloBack = SyncFlags(rawValue: 0x40)
    public static let handshake: SyncFlags = [.hello, .helloBack]
}

/// The 8-byte header every message starts with; all fields big-endian.
public struct SyncHeader: Hashable, Sendable {
    public static let size = 8
    public static let version: UInt8 = 1

    public var version: UInt8
    /// The raw low nibble; not every value is a known `SyncMessageType`.
    public var typeCode: UInt8
    public var flags: SyncFlags
    public var length: UInt16
    public var sequence: UInt32

    public init(type: SyncMessageType, flags: SyncFlags = [], length: UInt16 = 0, sequence: UInt32, version: UInt8 = SyncHeader.version) {
        self.version = version
        self.typeCode = type.rawValue
        self.flags = flags
        self.length = length
        self.sequence = sequence
    }

    init(raw bytes: UnsafeRawBufferPointer, at o: Int) {
        version = bytes[o] >> 4
        typeCode = bytes[o] & 0x0f
        flags = SyncFlags(rawValue: bytes[o + 1])
        length = UInt16(bytes[o + 2]) << 8 | UInt16(bytes[o + 3])
        sequence = UInt32(bytes[o + 4]) << 24 | UInt32(bytes[o + 5]) << 16 | UInt32(bytes[o + 6]) << 8 | UInt32(bytes[o + 7])
    }

    public var type: SyncMessageType? { SyncMessageType(rawValue: typeCode) }

    /// A state message: types 0–5 with no flag but the handshake bits (§1.5).
    public var isData: Bool { typeCode <= 5 && flags.subtracting(.handshake).isEmpty }

    /// A control message carrying a from/to range (ACK, NACK or RESYNC), which is 16 bytes.
    public var hasRange: Bool {
        typeCode == SyncMessageType.control.rawValue && !flags.intersection([.ack, .nack, .resync]).isEmpty
    }

    func write(into out: inout [UInt8]) {
        out.append(version << 4 | (typeCode & 0x0f))
        out.append(flags.rawValue)
        out.append(UInt8(length >> 8)); out.append(UInt8(length & 0xff))
        SyncBytes.appendBE32(sequence, to: &out)
    }
}

enum SyncBytes {
    @inline(__always) static func appendBE32(_ v: UInt32, to out: inout [UInt8]) {
        out.append(UInt8(v >> 24)); out.append(UInt8((v >> 16) & 0xff))
        out.append(UInt8((v >> 8) & 0xff)); out.append(UInt8(v & 0xff))
    }
    @inline(__always) static func appendBE16(_ v: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xff))
    }
    @inline(__always) static func be32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
    @inline(__always) static func be16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
        UInt16(b[o]) << 8 | UInt16(b[o + 1])
    }
}
