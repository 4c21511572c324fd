import StateSync
import Timekeeping

/// A resync request whose answer is watched until it has arrived whole. The peer answers
/// by sending every flow it holds, so once that answer is complete (and arrived without a
/// gap of its own) an external-cache flow it did not refresh is one the peer no longer
/// has: its destroy was lost, in a gap or while the link was down. Every request counts,
/// whoever made it: gap repair, the start-up resync, a node that becomes backup after a
/// failback (its cache still holds the flows that ended while the pair was apart), `-n`.
/// Completion is told as for the sync-health demotion (`ResyncProgress`): the peer's ACK
/// of the latest request, then its next idle tick.
struct ResyncSweep {
    /// When the first request went out: whatever the answer refreshes is newer.
    let mark: Instant
    /// Gaps and jumps seen before the latest request.
    private(set) var gaps: Int
    var progress: ResyncProgress

    init(mark: Instant, gaps: Int, acknowledgements: Bool) {
        self.mark = mark
        self.gaps = gaps
        // Requests are repeated by whoever made them; this only watches for the answer.
        progress = ResyncProgress(acknowledgements: acknowledgements, repeatInterval: .seconds(Int64.max / 2))
        progress.requested(now: mark)
    }

    /// Another request went out before the answer arrived. The mark stays at the first
    /// (an older mark can only keep more flows); a gap before this request no longer
    /// matters, since the answer to it refreshes every flow the peer has.
    mutating func requestedAgain(now: Instant, gaps: Int) {
        self.gaps = gaps
        progress.requested(now: now)
    }
}
