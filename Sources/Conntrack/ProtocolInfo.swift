/// Per-protocol state the kernel keeps beside the tuples (CTA_PROTOINFO).
public enum ProtocolInfo: Hashable, Sendable {
    case tcp(TCPInfo)
    case sctp(SCTPInfo)
    case dccp(DCCPInfo)

    public var tcp: TCPInfo? { if case .tcp(let i) = self { i } else { nil } }
}

/// `nf_ct_tcp_flags`: the flag byte and which bits of it to change.
public struct TCPFlags: Hashable, Sendable {
    public var flags: UInt8
    public var mask: UInt8
    public init(flags: UInt8, mask: UInt8) { self.flags = flags; self.mask = mask }
}

public struct TCPInfo: Hashable, Sendable {
    public var state: TCPState?
    public var windowScaleOriginal: UInt8?
    public var windowScaleReply: UInt8?
    public var flagsOriginal: TCPFlags?
    public var flagsReply: TCPFlags?

    public init(state: TCPState? = nil, windowScaleOriginal: UInt8? = nil, windowScaleReply: UInt8? = nil,
                flagsOriginal: TCPFlags? = nil, flagsReply: TCPFlags? = nil) {
        self.state = state
        self.windowScaleOriginal = windowScaleOriginal
        self.windowScaleReply = windowScaleReply
        self.flagsOriginal = flagsOriginal
        self.flagsReply = flagsReply
    }
}

/// TCP_CONNTRACK_*; unknown values are kept as they came.
public struct TCPState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let none = TCPState(rawValue: 0)
    public static let synSent = TCPState(rawValue: 1)
    public static let synReceived = TCPState(rawValue: 2)
    public static let established = TCPState(rawValue: 3)
    public static let finWait = TCPState(rawValue: 4)
    public static let closeWait = TCPState(rawValue: 5)
    public static let lastAck = TCPState(rawValue: 6)
    public static let timeWait = TCPState(rawValue: 7)
    public static let close = TCPState(rawValue: 8)
    public static let synSent2 = TCPState(rawValue: 9)

    static let names = ["NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT",
                        "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"]

    /// conntrack(8) prints NONE for values it does not know.
    public var description: String { Int(rawValue) < Self.names.count ? Self.names[Int(rawValue)] : "NONE" }

    public init?(name: String) {
        // conntrack(8) also accepts LISTEN for the ninth state.
        let upper = name.uppercased() == "LISTEN" ? "SYN_SENT2" : name.uppercased()
        guard let i = Self.names.firstIndex(of: upper) else { return nil }
        rawValue = UInt8(i)
    }
}

public struct SCTPInfo: Hashable, Sendable {
    public var state: UInt8?
    /// Verification tags, kept as the 32-bit words the kernel sends.
    public var verificationTagOriginal: UInt32?
    public var verificationTagReply: UInt32?

    public init(state: UInt8? = nil, verificationTagOriginal: UInt32? = nil, verificationTagReply: UInt32? = nil) {
        self.state = state
        self.verificationTagOriginal = verificationTagOriginal
        self.verificationTagReply = verificationTagReply
    }

    static let stateNames = ["NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED",
                             "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT",
                             "HEARTBEAT_ACKED"]

    public static func stateName(_ s: UInt8) -> String {
        Int(s) < stateNames.count ? stateNames[Int(s)] : "NONE"
    }


    public static func state(named name: String) -> UInt8? {
        stateNames.firstIndex(of: name.uppercased()).map { UInt8($0) }
    }
}

public struct DCCPInfo: Hashable, Sendable {
    public var state: UInt8?
    public var role: UInt8?
    public var handshakeSequence: UInt64?

    public init(state: UInt8? = nil, role: UInt8? = nil, handshakeSequence: UInt64? = nil) {
        self.state = state
        self.role = role
        self.handshakeSequence = handshakeSequence
    }

    public static let stateNames = ["NONE", "REQUEST", "RESPOND", "PARTOPEN", "OPEN", "CLOSEREQ",
                                    "CLOSING", "TIMEWAIT", "IGNORE", "INVALID"]
}
