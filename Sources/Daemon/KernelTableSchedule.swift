/// When the daemon next goes back to the kernel's table (monotonic nanoseconds): the
/// PollSecs poll, the re-read after an event overrun (NetlinkOverrunResync), the flush of
/// `-t` (PurgeTimeout), and ALARM's once-a-second expiry of the external cache.
struct KernelTableSchedule {
    var nextPoll: UInt64?
    /// PollSecs with events: the next poll re-reads the kernel table (after an overrun).
    var pollPending = false
    var resyncAt: UInt64?
    var purgeAt: UInt64?
    /// ALARM: external entries are expired once a second, not on every loop turn.
    var nextExpiry: UInt64 = 0

    /// The earliest of the deadlines above that is set (ALARM's expiry rides on the loop's
    /// one-second wake-ups).
    var deadline: UInt64 { min(nextPoll ?? .max, resyncAt ?? .max, purgeAt ?? .max) }
}
