/// Every write of the external cache into the kernel since start, for the metrics: the
/// status document keeps only the last one (`PromotionRecord`), a rate and a histogram
/// need them all. Updated once per commit, never per flow.
struct PromotionTally: Sendable, Equatable {
    /// Commits of the external cache started (a `tandem run` promotion or `conntrackd -c`).
    var promotions = 0
    /// Of those, commits that stopped as a whole (the error in the status document).
    var failedWhole = 0
    var flowsCommitted = 0
    var flowsRefused = 0
    /// The kernel's refusals by errno, summed over every commit.
    var refusedByErrno: [Int32: Int] = [:]
    /// How long each commit took, and (`tandem run`) how long from the VRRP transition
    /// until the unit's addresses were announced.
    var commitDurations = Observations()
    var announceDelays = Observations()

    mutating func record(_ report: CommitReport) {
        promotions += 1
        flowsCommitted += report.succeeded
        flowsRefused += report.failed
        for (errno, flows) in report.failuresByErrno { refusedByErrno[errno, default: 0] += flows }
        commitDurations.append(report.duration)
    }

    mutating func recordFailure() {
        promotions += 1
        failedWhole += 1
    }

    /// Values for a histogram, read by a publisher that may run less often than they come:
    /// `total` counts every value ever added, `recent` keeps the newest few, so a reader
    /// that remembers how many it has taken takes exactly the new ones. Promotions are
    /// seconds apart at the most; the bound only keeps a flapping pair's memory flat.
    struct Observations: Sendable, Equatable {
        static let kept = 256
        private(set) var total = 0
        private(set) var recent: [Duration] = []

        mutating func append(_ d: Duration) {
            total += 1
            recent.append(d)
            if recent.count > Self.kept { recent.removeFirst(recent.count - Self.kept) }
        }

        /// The values added after the first `taken`, oldest first (those still kept).
        func since(_ taken: Int) -> ArraySlice<Duration> {
            let new = min(max(0, total - taken), recent.count)
            return recent.suffix(new)
        }
    }
}
