import StateSync
import Timekeeping

/// A resync that gap repair asked for, until its answer has arrived. The peer answers by
/// sending every flow it holds, so once that answer is complete (and arrived without a gap
/// of its own) an external-cache flow it did not refresh is one the peer no longer has:
/// its destroy fell into a gap. Completion is told as for the start-up resync
/// (`ResyncProgress`): the peer's ACK of the request, then its next idle tick.
struct GapResync {
    /// When the request went out: what the answer refreshes is newer.
    let mark: Instant
    /// Gaps and jumps seen before the request.
    let gaps: Int
    var progress: ResyncProgress

    init(mark: Instant, gaps: Int, acknowledgements: Bool) {
        self.mark = mark
        self.gaps = gaps
        // Gap repair repeats requests itself; this one only watches for the answer.
        progress = ResyncProgress(acknowledgements: acknowledgements, repeatInterval: .seconds(Int64.max / 2))
        progress.requested(now: mark)
    }
}
