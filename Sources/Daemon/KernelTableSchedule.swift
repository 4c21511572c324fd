import Timekeeping

/// When the daemon next goes back to the kernel's table : the
/// PollSecs poll, the re-read after an event overrun (NetlinkOverrunResync), the flush of
/// `-t` (PurgeTimeout), and ALARM's once-a-second expiry of the external cache.
struct KernelTableSchedule {
    var nextPoll: Instant?
    /// PollSecs with events: the next poll re-reads the kernel table (after an overrun).
    var pollPending = false
    var resyncAt: Instant?
    var purgeAt: Instant?
    /// ALARM: external entries are expired once a second, not on every loop turn.
    var nextExpiry = Instant.zero
    /// The spacing of retries while re-reading the table keeps failing.
    private(set) var rereadBackoff = Duration.zero

    /// The earliest of the deadlines above that is set (ALARM's expiry rides on the loop's
    /// one-second wake-ups).
    var deadline: Instant { min(nextPoll ?? .never, resyncAt ?? .never, purgeAt ?? .never) }

    /// A re-read failed: it is tried again in 1 s, the wait doubling up to a minute while
    /// it keeps failing. Returns the wait.
    mutating func rereadFailed(now: Instant) -> Duration {
        rereadBackoff = rereadBackoff == .zero ? .seconds(1) : min(rereadBackoff * 2, .seconds(60))
        resyncAt = now + rereadBackoff
        return rereadBackoff
    }

    mutating func rereadSucceeded() { rereadBackoff = .zero }
}
