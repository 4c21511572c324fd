/// One attribute found by an `AttributeDecoder`: where its payload lies in the buffer.
public struct Attribute: Hashable, Sendable {
    /// The type with NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off.
    public var type: UInt16
    public var isNested: Bool
    public var payload: Range<Int>
    public var length: Int { payload.count }
}

/// A cursor over a run of netlink attributes, after mdlayher/netlink's AttributeDecoder:
/// iteration and typed reads never trap, and the first problem becomes a sticky `error`
/// that stops iteration. Callers check `error` once when done.
///
/// It reads through a raw buffer pointer rather than holding an array: decoding a dump
/// makes several decoders per flow, and array copies cost a retain/release each. Every
/// read is bounds-checked against `end` by hand, so the pointer is never read outside it.
/// A decoder must not outlive the closure that lent it the buffer (`withDecoder`).
public struct AttributeDecoder {
    public static let maximumDepth = 16

    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int
    public let end: Int
    public let depth: Int
    public private(set) var error: NetlinkDecodingError?

    /// Lends `body` a decoder over `bytes[range]`.
    public static func withDecoder<T, E: Error>(
        _ bytes: [UInt8], range: Range<Int>? = nil, _ body: (inout AttributeDecoder) throws(E) -> T
    ) throws(E) -> T {
        try withRawBytes(bytes) { (raw) throws(E) -> T in
            var d = AttributeDecoder(raw, range: range)
            return try body(&d)
        }
    }

    public init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil, depth: Int = 0) {
        let r = range ?? 0..<bytes.count
        self.bytes = bytes
        self.depth = depth
        if r.lowerBound < 0 || r.upperBound > bytes.count {
            self.position = 0
            self.end = 0
            error = .attributeTooLong(offset: r.lowerBound, length: r.count, available: bytes.count)
        } else {
            self.position = r.lowerBound
            self.end = r.upperBound
        }
        if depth > Self.maximumDepth { error = .nestingTooDeep(depth: depth) }
    }

    /// The next attribute, or nil at the end or after an error.
    public mutating func next() -> Attribute? {
        guard error == nil, position < end else { return nil }
        let available = end - position
        guard available >= 4 else {
            error = .truncatedAttribute(offset: position, available: available)
            return nil
        }
        let length = Int(readHost16(position))
        let rawType = readHost16(position + 2)
        guard length >= 4 else {
            error = .badAttributeLength(offset: position, length: length)
            return nil
        }
        guard length <= available else {
            error = .attributeTooLong(offset: position, length: length, available: available)
            return nil
        }
        let attribute = Attribute(
            type: rawType & AttributeFlag.typeMask,
            isNested: rawType & AttributeFlag.nested != 0,
            payload: (position + 4)..<(position + length))
        // The last attribute may omit its padding.
        position = min(end, position + netlinkAlign(length))
        return attribute
    }

    /// A decoder over the attributes nested in `attribute`. Its errors are its own: merge
    /// them back with `absorb`.
    public func nested(_ attribute: Attribute) -> AttributeDecoder {
        AttributeDecoder(bytes, range: attribute.payload, depth: depth + 1)
    }

    public mutating func absorb(_ child: AttributeDecoder) {
        if error == nil, let e = child.error { error = e }
    }

    public mutating func fail(_ e: NetlinkDecodingError) {
        if error == nil { error = e }
    }

    // MARK: typed payloads. A wrong size records an error and yields zero.

    public mutating func uint8(_ a: Attribute) -> UInt8 {
        guard expect(a, size: 1) else { return 0 }
        return bytes[a.payload.lowerBound]
    }

    public mutating func uint16BE(_ a: Attribute) -> UInt16 {
        guard expect(a, size: 2) else { return 0 }
        return readBE(a.payload.lowerBound, count: 2).truncatingToUInt16
    }

    public mutating func uint32BE(_ a: Attribute) -> UInt32 {
        guard expect(a, size: 4) else { return 0 }
        return UInt32(truncatingIfNeeded: readBE(a.payload.lowerBound, count: 4))
    }

    public mutating func uint64BE(_ a: Attribute) -> UInt64 {
        guard expect(a, size: 8) else { return 0 }
        return readBE(a.payload.lowerBound, count: 8)
    }

    public mutating func uint32Host(_ a: Attribute) -> UInt32 {
        guard expect(a, size: 4) else { return 0 }
        return UInt32(truncatingIfNeeded: readLE(a.payload.lowerBound, count: 4))
    }

    public func data(_ a: Attribute) -> [UInt8] { Array(UnsafeRawBufferPointer(rebasing: bytes[a.payload])) }

    /// The payload as a raw slice, valid while the decoder is.
    public func raw(_ a: Attribute) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[a.payload]) }

    /// A C string: the payload up to its first NUL.
    public func string(_ a: Attribute) -> String {
        let slice = raw(a)
        let cut = slice.firstIndex(of: 0) ?? slice.count
        return String(decoding: UnsafeRawBufferPointer(rebasing: slice[0..<cut]), as: UTF8.self)
    }

    private mutating func expect(_ a: Attribute, size: Int) -> Bool {
        guard a.length == size else {
            fail(.wrongPayloadSize(attribute: a.type, expected: size, actual: a.length))
            return false
        }
        return true
    }

    private func readHost16(_ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    private func readBE(_ at: Int, count: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<count { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }

    private func readLE(_ at: Int, count: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in (0..<count).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }
}

extension UInt64 {
    fileprivate var truncatingToUInt16: UInt16 { UInt16(truncatingIfNeeded: self) }
}

/// `Array.withUnsafeBytes` with the closure's typed error preserved.
public func withRawBytes<T, E: Error>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
    var result: Result<T, E>?
    bytes.withUnsafeBytes { raw in
        result = Result { () throws(E) -> T in try body(raw) }
    }
    return try result!.get()
}
