import Timekeeping

/// The last time the external cache was written into the kernel: a `tandem run`
/// promotion, or a `conntrackd -c` (the commit primary-backup.sh makes on promotion).
/// Kept after the caches are flushed, because "how did the last failover go" is asked
/// long after it happened.
struct PromotionRecord: Sendable {
    /// The promoted sync group or instance; nil when the commit came over the control socket.
    var unit: String?
    var startedAt: Instant
    var report: CommitReport?
    /// Why the commit stopped, when it threw (then `report` is nil).
    var error: String?
    var peerTableIncomplete: Bool
    /// From the VRRP transition to the addresses being announced (`tandem run` only).
    var announcedAfter: Duration?

    struct Failure: Encodable, Sendable {
        var errno: Int
        var name: String
        var flows: Int
    }

    struct Document: Encodable, Sendable {
        @Nullable var unit: String?
        var ageMs: Int
        var flows: Int
        var committed: Int
        var failed: Int
        var durationMs: Double
        /// Most frequent first, as the log's "commit failures by cause" line.
        var failuresByErrno: [Failure]
        @Nullable var error: String?
        var peerTableIncomplete: Bool
        @Nullable var announcedAfterMs: Double?
    }

    func document(now: Instant) -> Document {
        let failures = (report?.failuresMostFrequentFirst ?? [])
            .map { Failure(errno: Int($0.errno), name: CommitReport.errnoName($0.errno), flows: $0.flows) }
        return Document(unit: unit, ageMs: Self.milliseconds(now - startedAt), flows: report?.flows ?? 0,
                        committed: report?.succeeded ?? 0, failed: report?.failed ?? 0,
                        durationMs: Self.fractionalMilliseconds(report?.duration ?? .zero), failuresByErrno: failures,
                        error: error, peerTableIncomplete: peerTableIncomplete,
                        announcedAfterMs: announcedAfter.map(Self.fractionalMilliseconds))
    }

    static func milliseconds(_ d: Duration) -> Int { Int(max(0, d.nanosecondCount) / 1_000_000) }

    /// Microsecond resolution: a small commit takes well under a millisecond.
    static func fractionalMilliseconds(_ d: Duration) -> Double { Double(max(0, d.nanosecondCount) / 1_000) / 1_000 }
}
