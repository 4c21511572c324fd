/// An expected connection a helper (FTP, SIP, …) announced: when a packet matches `tuple`
/// under `mask`, the new flow is related to `master`.
public struct Expectation: Hashable, Sendable {
    public var family: UInt8
    public var master: Tuple?
    public var tuple: Tuple?
    public var mask: Tuple?
    public var timeout: UInt32?
    public var id: UInt32?
    public var helperName: String?
    public var zone: UInt16?
    public var flags: ExpectationFlags?
    public var expectationClass: UInt32?
    public var nat: ExpectationNAT?
    public var function: String?

    public init(family: UInt8) { self.family = family }
}

public struct ExpectationFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let permanent = ExpectationFlags(rawValue: 1)
    public static let inactive = ExpectationFlags(rawValue: 2)
    public static let userspace = ExpectationFlags(rawValue: 4)
}

public struct ExpectationNAT: Hashable, Sendable {
    public var direction: UInt32
    public var tuple: Tuple
    public init(direction: UInt32, tuple: Tuple) { self.direction = direction; self.tuple = tuple }
}
