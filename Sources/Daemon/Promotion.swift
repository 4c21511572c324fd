import Timekeeping

/// `tandem run`'s promotion of one unit (a sync group, or a lone instance) to MASTER, as one
/// explicit sequence. Its order is why `tandem run` exists: the replicated flows are in the
/// kernel before the unit's first advert and addresses go out, so the first redirected
/// packet finds its state (primary-backup.sh runs after keepalived has announced, and the
/// packets in between are reset); the table goes to the peer after the addresses are up,
/// off the critical path. A failed commit is reported and the unit still announces: a
/// master without every flow serves more sessions than no master.
///
/// A value fed what happened, returning what to do next; the owner performs the actions
/// (`PromotionDriver`), so a test can step through it with fakes.
struct Promotion {
    enum Step: Equatable { case commit, announce, done }

    enum Action: Equatable {
        /// primary-backup.sh's `-c -f -R`: empty the internal cache, write the external cache
        /// into the kernel (the internal cache adopting what went in), empty the external
        /// cache, stop waiting for the peer's table.
        case commit
        /// Let the unit announce itself: its first advert, addresses, routes and GARP.
        case announce
        /// primary-backup.sh's `-B`, and the kernel re-read in place of its dump.
        case sendTable(reconcileAfter: Duration)
        case log(String)
    }

    /// What the commit did.
    struct CommitOutcome: Equatable {
        var succeeded = 0, failed = 0
        var duration = Duration.zero
        /// Why it stopped, when it threw.
        var error: String?
        /// The peer's table had not fully arrived (a resync was still outstanding).
        var peerTableIncomplete = false
    }

    let unit: String
    let startedAt: Instant
    private(set) var step = Step.commit
    /// From the transition to the announcement; nil if the unit never announced itself.
    private(set) var announcedAfter: Duration?

    init(unit: String, now: Instant) {
        self.unit = unit
        startedAt = now
    }

    func start() -> [Action] { [.commit] }

    mutating func committed(_ outcome: CommitOutcome) -> [Action] {
        guard step == .commit else { return [] }
        step = .announce
        var text = outcome.error.map { "commit failed: \($0)" }
            ?? "committed \(outcome.succeeded) flows (\(outcome.failed) failed) in \(Self.milliseconds(outcome.duration)) ms"
        if outcome.peerTableIncomplete { text += " (the peer's table had not fully arrived)" }
        let caches = outcome.error == nil ? "caches flushed, internal cache holds what was committed" : "external cache kept for another commit"
        return [.log("(\(unit)) master actions: \(text); \(caches)"), .announce]
    }

    /// The unit's addresses are up and announced.
    mutating func announced(now: Instant) -> [Action] {
        guard step == .announce else { return [] }
        step = .done
        announcedAfter = now - startedAt
        let after = Self.milliseconds(now - startedAt)
        return [.log("(\(unit)) addresses added and announced \(after) ms after the transition"),
                .sendTable(reconcileAfter: .seconds(1)),
                .log("(\(unit)) bulk send queued; kernel table reconciled in 1 s; all master actions done \(after) ms after the transition")]
    }

    /// The unit left MASTER before it announced itself: nothing is sent as master.
    mutating func abandoned() -> [Action] {
        guard step == .announce else { return [] }
        step = .done
        return [.log("(\(unit)) left MASTER before announcing itself: no bulk send")]
    }

    /// Milliseconds with one decimal, as the log lines give them.
    static func milliseconds(_ d: Duration) -> String {
        let tenths = (max(0, d.nanosecondCount) + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// The replication side of a promotion.
protocol PromotionReplication: AnyObject {
    func commitForPromotion(now: Instant) -> Promotion.CommitOutcome
    func sendTable(reconcileAfter: Duration, now: Instant)
}

/// The VRRP side: releases a held unit's announcements; false if it left MASTER meanwhile.
protocol PromotionAnnouncer: AnyObject {
    func announceUnit(_ unit: String) -> Bool
}

/// Performs a promotion's actions, in order, to the end.
enum PromotionDriver {
    /// Returns the finished promotion, for the status's record of it.
    @discardableResult
    static func run(unit: String, clock: () -> Instant, replication: some PromotionReplication,
                    vrrp: some PromotionAnnouncer, log: (String) -> Void) -> Promotion {
        var promotion = Promotion(unit: unit, now: clock())
        var pending = promotion.start()
        while !pending.isEmpty {
            switch pending.removeFirst() {
            case .commit:
                pending += promotion.committed(replication.commitForPromotion(now: clock()))
            case .announce:
                pending += vrrp.announceUnit(unit) ? promotion.announced(now: clock()) : promotion.abandoned()
            case .sendTable(let delay):
                replication.sendTable(reconcileAfter: delay, now: clock())
            case .log(let line):
                log(line)
            }
        }
        return promotion
    }
}
