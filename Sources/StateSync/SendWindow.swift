/// How many messages the FTFW sender lets go unacknowledged (Tandem, with back-pressure).
///
/// FTFW has no flow control: the sender only stops at its resend queue's size (131,072 by
/// default), which is more than a receiver's socket buffer holds when the receiver is busy
/// (a long commit or a kernel inject). Then whatever does not fit is lost, the receiver
/// NACKs or asks for a resync, and the answer — the whole table at the same pace — is lost
/// again (seen at 1M flows: gaps of 62,042 and 683,287 messages in a row).
///
/// So the limit follows the peer's own loss reports, the way TCP's congestion window does:
/// a NACK halves it (once per round: a NACK for messages sent before the last cut is the
/// same loss reported again), and each full limit's worth of acknowledged messages grows it
/// by an eighth, back up to the resend queue's size. Nothing is sent or withheld that the
/// wire could tell apart from conntrackd's; only the pace changes.
public struct SendWindow: Hashable, Sendable {
    public let ceiling: Int
    public let floor: Int
    public private(set) var limit: Int
    /// Messages acknowledged since the limit last grew.
    private var acknowledgedSinceGrowth = 0
    /// The first sequence number sent after the last cut: loss reported for anything
    /// before it was already paid for.
    private var recoveryEnd: UInt32?
    /// Times the limit was cut.
    public private(set) var cuts = 0

    public init(ceiling: Int, floor: Int) {
        self.ceiling = max(1, ceiling)
        self.floor = min(max(1, floor), self.ceiling)
        limit = self.ceiling
    }

    /// The peer reports loss of messages up to `lastLost`; `inFlight` are unacknowledged
    /// now, and `nextSequence` is the number our next message takes.
    public mutating func lost(through lastLost: UInt32, inFlight: Int, nextSequence: UInt32) {
        if let end = recoveryEnd, Int32(bitPattern: lastLost &- end) < 0 { return }
        limit = Swift.max(floor, Swift.min(limit, Swift.max(inFlight, 1)) / 2)
        acknowledgedSinceGrowth = 0
        recoveryEnd = nextSequence
        cuts += 1
    }

    /// The peer acknowledged `count` messages.
    public mutating func acknowledged(_ count: Int) {
        guard limit < ceiling, count > 0 else { return }
        acknowledgedSinceGrowth += count
        guard acknowledgedSinceGrowth >= limit else { return }
        acknowledgedSinceGrowth = 0
        limit = Swift.min(ceiling, limit + Swift.max(limit / 8, 1))
    }
}
