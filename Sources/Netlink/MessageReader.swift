/// One message found in a received buffer: its header and where its payload lies.
public struct NetlinkMessageView: Sendable {
    public var header: NetlinkHeader
    public var payload: Range<Int>
}

/// Walks the messages of one received datagram. Never traps: a bad length ends the walk
/// with `error` set.
public struct MessageReader: Sequence, IteratorProtocol {
    public let bytes: [UInt8]
    private var position: Int
    private let end: Int
    public private(set) var error: NetlinkDecodingError?

    public init(_ bytes: [UInt8], count: Int? = nil) {
        self.bytes = bytes
        self.position = 0
        self.end = Swift.min(count ?? bytes.count, bytes.count)
    }

    /// The messages in `bytes[start ..< start + count]`; payload ranges stay absolute.
    public init(_ bytes: [UInt8], from start: Int, count: Int) {
        self.bytes = bytes
        self.position = Swift.min(start, bytes.count)
        self.end = Swift.min(start + count, bytes.count)
    }

    public mutating func next() -> NetlinkMessageView? {
        guard error == nil, position < end else { return nil }
        let available = end - position
        guard available >= NetlinkHeader.size else {
            error = .truncatedHeader(offset: position, available: available)
            return nil
        }
        let header = NetlinkHeaderCodec.read(bytes, at: position)
        let length = Int(header.length)
        guard length >= NetlinkHeader.size, length <= available else {
            error = .badMessageLength(offset: position, length: length, available: available)
            return nil
        }
        let view = NetlinkMessageView(header: header, payload: (position + NetlinkHeader.size)..<(position + length))
        position += netlinkAlign(length)
        return view
    }
}

/// The body of an NLMSG_ERROR: errno (negated by the kernel) and the extended-ACK text.
public struct NetlinkErrorMessage: Hashable, Sendable {
    public var errno: Int32
    /// The header of the request this answers (the first 16 bytes of the echoed request).
    public var request: NetlinkHeader
    public var extendedMessage: String?

    public static func decode(_ bytes: [UInt8], _ view: NetlinkMessageView) throws(NetlinkDecodingError) -> NetlinkErrorMessage {
        let p = view.payload
        guard p.count >= 4 + NetlinkHeader.size else {
            throw .truncatedPayload(type: view.header.type, needed: 4 + NetlinkHeader.size, available: p.count)
        }
        let raw = UInt32(bytes[p.lowerBound]) | UInt32(bytes[p.lowerBound + 1]) << 8
            | UInt32(bytes[p.lowerBound + 2]) << 16 | UInt32(bytes[p.lowerBound + 3]) << 24
        // Wrapping: a hostile INT32_MIN has no positive counterpart, and must not trap.
        let code = 0 &- Int32(bitPattern: raw)
        let request = NetlinkHeaderCodec.read(bytes, at: p.lowerBound + 4)
        var message: String?
        if view.header.flags.contains(.ackTLVs) {
            // Unless capped, the whole request is echoed before the TLVs.
            let echoed = view.header.flags.contains(.capped) ? NetlinkHeader.size : Int(request.length)
            let tlvStart = p.lowerBound + 4 + netlinkAlign(echoed)
            if tlvStart <= p.upperBound {
                AttributeDecoder.withDecoder(bytes, range: tlvStart..<p.upperBound) { decoder in
                    while let a = decoder.next() {
                        if a.type == ExtendedAckAttribute.message { message = decoder.string(a) }
                    }
                }
            }
        }
        return NetlinkErrorMessage(errno: code, request: request, extendedMessage: message)
    }
}
