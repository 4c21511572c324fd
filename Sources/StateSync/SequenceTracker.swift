/// The receiver's view of the peer's sequence numbers (spec §3.2), shared by all modes.
public struct SequenceTracker: Hashable, Sendable {
    public enum Position: Hashable, Sendable {
        case unset
        case inSync
        /// A gap: messages between the expected number and this one were lost.
        case after
        case before
    }

    public private(set) var last: UInt32 = 0
    public private(set) var isSet = false
    /// Messages missing in gaps: s − expected per gap. conntrackd adds s − last + 1 (two
    /// too many per gap) and adds any forward jump whole, so one forged sequence number
    /// could read as billions lost; a jump too large to be loss is counted in `jumps`.
    public private(set) var lost = 0
    public private(set) var gaps = 0
    public private(set) var jumps = 0
    public private(set) var before = 0
    /// The largest gap that can be loss: no resend queue holds more messages.
    public static let largestGap: UInt32 = 1 << 20

    public init() {}

    public var expected: UInt32 { last &+ 1 }

    public mutating func classify(_ s: UInt32) -> Position {
        guard isSet else { return .unset }
        if s == expected { return .inSync }
        if Int32(bitPattern: s &- expected) > 0 {
            let missing = s &- expected
            if missing > Self.largestGap {
                jumps += 1
            } else {
                gaps += 1
                lost += Int(missing)
            }
            return .after
        }
        before += 1
        return .before
    }

    public mutating func accept(_ s: UInt32) {
        last = s
        isSet = true
    }
}

/// `a` is before `b` in modular sequence space.
@inline(__always) func sequence(_ a: UInt32, isBefore b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
/// `x` in [lo, hi] in modular sequence space.
@inline(__always) func sequence(_ x: UInt32, in lo: UInt32, _ hi: UInt32) -> Bool { (hi &- lo) >= (x &- lo) }
