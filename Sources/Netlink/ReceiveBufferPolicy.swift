/// conntrackd's NetlinkBufferSize / NetlinkBufferSizeMaxGrowth: start at `initial` and,
/// each time the kernel reports an overrun, double the buffer up to `maximum`.
public struct ReceiveBufferPolicy: Hashable, Sendable {
    public var initial: Int
    public var maximum: Int

    public init(initial: Int, maximum: Int) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The size to use after an overrun at `current`, or nil when already at the maximum.
    public func grown(from current: Int) -> Int? {
        guard current < maximum else { return nil }
        return min(maximum, max(current * 2, initial))
    }
}
