/// Why bytes could not be read as netlink. Every decoder in Tandem reports one of these
/// instead of trapping; callers count them.
public enum NetlinkDecodingError: Error, Hashable, Sendable {
    case truncatedHeader(offset: Int, available: Int)
    case badMessageLength(offset: Int, length: Int, available: Int)
    case truncatedPayload(type: UInt16, needed: Int, available: Int)
    case truncatedAttribute(offset: Int, available: Int)
    case badAttributeLength(offset: Int, length: Int)
    case attributeTooLong(offset: Int, length: Int, available: Int)
    case nestingTooDeep(depth: Int)
    case wrongPayloadSize(attribute: UInt16, expected: Int, actual: Int)
    case missingAttribute(DecodingContext)
    case invalidValue(DecodingContext)
    case unknownAttribute(type: UInt16, context: DecodingContext)

    /// A short stable name, used as a counter label.
    public var reason: String {
        switch self {
        case .truncatedHeader: "truncated-header"
        case .badMessageLength: "bad-message-length"
        case .truncatedPayload: "truncated-payload"
        case .truncatedAttribute: "truncated-attribute"
        case .badAttributeLength: "bad-attribute-length"
        case .attributeTooLong: "attribute-too-long"
        case .nestingTooDeep: "nesting-too-deep"
        case .wrongPayloadSize: "wrong-payload-size"
        case .missingAttribute: "missing-attribute"
        case .invalidValue: "invalid-value"
        case .unknownAttribute: "unknown-attribute"
        }
    }
}

/// A fixed label naming where decoding failed. Backed by a StaticString so the error,
/// and every decoder that may hold one, stays a plain value that copies without
/// reference counting on the per-flow path.
public struct DecodingContext: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let text: StaticString
    public init(stringLiteral value: StaticString) { text = value }
    public var description: String { text.description }
    public static func == (a: Self, b: Self) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }
}

/// An NLMSG_ERROR with a non-zero code, as the kernel reported it for one request.
public struct NetlinkKernelError: Error, Hashable, Sendable, CustomStringConvertible {
    public var errno: Int32
    public var sequence: UInt32
    /// The extended-ACK text (NLMSGERR_ATTR_MSG), when the kernel gave one.
    public var message: String?

    public init(errno: Int32, sequence: UInt32, message: String? = nil) {
        self.errno = errno
        self.sequence = sequence
        self.message = message
    }

    public var description: String {
        let text = errnoDescription(errno)
        if let message { return "\(text) (\(message))" }
        return text
    }
}

public enum NetlinkSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    case systemCall(String, errno: Int32)
    /// A datagram larger than the receive buffer was cut (MSG_TRUNC).
    case truncated(received: Int, buffer: Int)
    /// The kernel dropped messages for this socket (ENOBUFS).
    case overrun
    /// The table changed while a dump ran (NLM_F_DUMP_INTR): the result is inconsistent.
    case dumpInterrupted
    case unexpectedReply(type: UInt16)
    case namespaceNotFound(String, errno: Int32)
    case timedOut

    public var description: String {
        switch self {
        case .systemCall(let call, let e): "\(call): \(errnoDescription(e))"
        case .truncated(let r, let b): "netlink message truncated (\(r) bytes, buffer \(b))"
        case .overrun: "netlink overrun: the kernel dropped messages (ENOBUFS)"
        case .dumpInterrupted: "dump interrupted by a concurrent table change"
        case .unexpectedReply(let t): "unexpected netlink reply type \(t)"
        case .namespaceNotFound(let n, let e): "network namespace \(n): \(errnoDescription(e))"
        case .timedOut: "timed out waiting for the kernel"
        }
    }
}
