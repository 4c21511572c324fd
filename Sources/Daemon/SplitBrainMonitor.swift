import Timekeeping

/// `tandem run` sees both halves of the pair, VRRP and the sync link; each can tell when the
/// other has gone wrong. Three disagreements are reported, each with both views:
/// - **both master**: we are MASTER and the peer keeps claiming MASTER of the same instance
///   (its adverts arrive for half a Master_Down_Interval, three adverts at least; an
///   ordinary election is answered at once and leaves one claim in flight at most).
/// - **VRRP lost, sync alive**: we took over because the peer's adverts stopped, not because
///   it resigned (priority 0), yet a sync message of the peer arrives after the takeover:
///   the peer is alive and probably MASTER too (the VRRP path between us is cut). A dead
///   peer sends nothing after its last advert; a restarted one says HELLO first. Reported on the first such message, as long
///   as one counts: for a MDI after the takeover, or one and a half of the peer's ALIVE
///   intervals if longer (a conntrackd peer's second), after which a peer heard again has
///   more likely restarted than survived. A peer whose own view (`--peer-view`) says
///   after the takeover that it is not MASTER (FAULT: its VRRP link went down) is no
///   split brain, however alive its sync.
/// - **sync lost, VRRP alive**: the peer's adverts still arrive (we are BACKUP, or it claims
///   MASTER) well after its sync messages stopped: failover would now lose what it replicates.
///   "Well after" is two and a half of the peer's ALIVE intervals (`SyncView.peerInterval`),
///   with the adverts uninterrupted through the silence or for that long after it.
/// Every window comes from the instance's MDI or the peer's ALIVE interval
/// (`SplitBrainTiming`), so reports come within 2 × MDI when the peer sends at MDI / 4.
/// A pure state machine: the node hands it what both halves say and the time, and it
/// returns the reports that began or ended.
struct SplitBrainMonitor {
    enum Kind: String, CaseIterable, Sendable {
        case bothMaster, vrrpLostSyncAlive, syncLostVRRPAlive
    }

    /// The other router's last advert that this instance accepted.
    struct PeerAdvert: Equatable, Sendable {
        var at: Instant
        var priority: UInt8
        var source: String
    }

    /// One VRRP instance, as the node reads it each turn.
    struct InstanceView: Sendable {
        var name: String
        var isMaster: Bool
        /// When it last became MASTER (nil unless MASTER).
        var masterSince: Instant?
        var masterDownInterval: Duration
        var peerAdvert: PeerAdvert?
        /// The last advert with a priority above 0 heard while MASTER that left us MASTER.
        var lastClaimWhileMaster: Instant?
        /// `--peer-view`: the peer's own word for this instance, while fresh.
        var peerView: PeerViewState? = nil
        /// Our effective priority, and whether we preempt a lower-priority master.
        var priority: UInt8 = 100
        var preempts = true
    }

    /// What the peer's view (docs/split-brain.md) said of an instance, and when it came.
    struct PeerViewState: Equatable, Sendable {
        var state: String
        var at: Instant
    }

    struct SyncView: Sendable {
        var peer: String
        /// nil until the peer has been heard once.
        var lastHeard: Instant?
        /// How often the peer is heard at least while it is up: conntrackd's second unless
        /// the peer is known to be Tandem (its peer view is heard), then its MDI-derived pace.
        var peerInterval: Duration = SplitBrainTiming.conntrackdAliveInterval
        /// When the peer last said HELLO (FTFW: its sequence line restarted, so it did).
        var lastHello: Instant? = nil
    }

    struct Report: Equatable, Sendable {
        var kind: Kind
        var instance: String
        var began: Bool
        /// Both views, as one log line says them.
        var detail: String
    }

    struct Active: Equatable, Sendable {
        var since: Instant
        var detail: String
    }

    struct Key: Hashable, Sendable {
        var kind: Kind
        var instance: String
    }

    /// How long after a takeover a sync message still proves the peer survived it.
    static func proofWindow(_ i: InstanceView, sync: SyncView) -> Duration {
        max(i.masterDownInterval, sync.peerInterval * 3 / 2)
    }

    /// How long the peer must keep claiming MASTER, from its first claim to its latest:
    /// three of its adverts at least (half a MDI is 1.5 intervals and half a skew, less
    /// than two intervals).
    static func claimPersistence(_ i: InstanceView) -> Duration { i.masterDownInterval / 2 }

    private(set) var active: [Key: Active] = [:]
    private(set) var reports: [Kind: Int] = [:]
    /// Per instance: the first of the peer's uninterrupted claims while we are MASTER.
    private var firstClaim: [String: Instant] = [:]
    /// Per instance: the takeover already judged for `vrrpLostSyncAlive`.
    private var judgedTakeover: [String: Instant] = [:]
    /// Per instance: the peer's current run of adverts, from its first to its latest; a
    /// gap longer than a MDI starts a new run.
    private var advertRun: [String: (start: Instant, last: Instant)] = [:]

    mutating func evaluate(_ instances: [InstanceView], sync: SyncView, now: Instant) -> [Report] {
        var out: [Report] = []
        for i in instances {
            trackAdverts(i)
            func set(_ kind: Kind, _ holds: Bool) {
                let key = Key(kind: kind, instance: i.name)
                guard holds != (active[key] != nil) else { return }
                // Said only when it changes: the loop asks every turn.
                let detail = Self.title(kind) + ": " + Self.views(i, sync: sync, now: now)
                if holds {
                    active[key] = Active(since: now, detail: detail)
                    reports[kind, default: 0] += 1
                } else {
                    active[key] = nil
                }
                out.append(Report(kind: kind, instance: i.name, began: holds, detail: detail))
            }
            set(.bothMaster, bothMaster(i, now: now))
            set(.vrrpLostSyncAlive, vrrpLostSyncAlive(i, sync: sync, now: now))
            set(.syncLostVRRPAlive, syncLostVRRPAlive(i, sync: sync, now: now))
        }
        return out
    }

    private mutating func bothMaster(_ i: InstanceView, now: Instant) -> Bool {
        // The peer's view claims MASTER over the sync path: the only claim that reaches a
        // master whose VRRP path is cut both ways. Only views that came while we were
        // MASTER count, as only adverts heard while MASTER do.
        var viewClaim: Instant?
        if let v = i.peerView, v.state == "MASTER", let since = i.masterSince, v.at >= since { viewClaim = v.at }
        let claims = [i.lastClaimWhileMaster, viewClaim].compactMap { $0 }
        guard i.isMaster, let claim = claims.max(), now - claim <= i.masterDownInterval else {
            firstClaim[i.name] = nil
            return false
        }
        let first = firstClaim[i.name] ?? claim
        firstClaim[i.name] = first
        // Measured between claims, not to now: one claim alone stays fresh for a MDI and
        // must not count as a persistent one.
        return claim - first >= Self.claimPersistence(i)
    }

    private mutating func vrrpLostSyncAlive(_ i: InstanceView, sync: SyncView, now: Instant) -> Bool {
        let key = Key(kind: .vrrpLostSyncAlive, instance: i.name)
        guard i.isMaster, let since = i.masterSince else { judgedTakeover[i.name] = nil; return false }
        if active[key] != nil {
            // It ends when the peer is heard on VRRP again or its sync falls silent too.
            let vrrpBack = i.peerAdvert.map { $0.at > since } ?? false
            let syncGone = sync.lastHeard.map { now - $0 > SplitBrainTiming.silence(peerInterval: sync.peerInterval) } ?? true
            return !vrrpBack && !syncGone && !Self.peerYielded(i, since: since)
        }
        guard judgedTakeover[i.name] != since else { return false }
        // Only a takeover after adverts that stopped: not a resignation, not a lone start.
        guard let advert = i.peerAdvert, advert.priority != 0, advert.at <= since else {
            judgedTakeover[i.name] = since
            return false
        }
        // Nor a preemption: a master below our priority loses to us with its adverts
        // arriving (keepalived's backup ignores them until its timer runs out), which is
        // every failback to the preferred node. Without preempt, only silence lets us take over.
        if i.preempts && advert.priority < i.priority {
            judgedTakeover[i.name] = since
            return false
        }
        if let heard = sync.lastHeard, heard > since {
            // A peer that speaks for itself (`--peer-view`) is believed: one whose VRRP
            // link went down is FAULT, alive but no master; only MASTER is a split brain.
            // It says so at once on a state change, so its word is awaited until the
            // window closes; without it by then, the sync message alone decides.
            if let v = i.peerView, v.at <= since, now - since < Self.proofWindow(i, sync: sync) { return false }
            judgedTakeover[i.name] = since
            // A peer that says HELLO after our takeover restarted (a crash and a service
            // manager's restart are that quick): it died, and is back as a backup.
            if let hello = sync.lastHello, hello > since { return false }
            return !Self.peerYielded(i, since: since)
        }
        // Nothing yet: keep looking until the window closes, then judge it over.
        if now - since >= Self.proofWindow(i, sync: sync) { judgedTakeover[i.name] = since }
        return false
    }

    /// The peer's own view, given since our takeover, says it is not MASTER.
    private static func peerYielded(_ i: InstanceView, since: Instant) -> Bool {
        guard let v = i.peerView, v.at > since else { return false }
        return v.state != "MASTER"
    }

    private mutating func trackAdverts(_ i: InstanceView) {
        guard let at = i.peerAdvert?.at else { advertRun[i.name] = nil; return }
        guard var run = advertRun[i.name] else { advertRun[i.name] = (at, at); return }
        if at - run.last > i.masterDownInterval { run.start = at }
        run.last = at
        advertRun[i.name] = run
    }

    private func syncLostVRRPAlive(_ i: InstanceView, sync: SyncView, now: Instant) -> Bool {
        guard let advert = i.peerAdvert, advert.priority != 0, now - advert.at <= i.masterDownInterval else { return false }
        let silence = SplitBrainTiming.silence(peerInterval: sync.peerInterval)
        guard let heard = sync.lastHeard, now - heard > silence else { return false }
        // Adverts went on after the sync stopped: a peer that died stopped both at once.
        guard advert.at > heard + sync.peerInterval else { return false }
        // And they went on through the sync's silence, or have gone on since for as long as
        // the silence that counts: a peer whose loop a commit of seconds held was silent on
        // both, and its first advert after it comes a moment before its first sync message.
        guard let run = advertRun[i.name] else { return false }
        return run.start <= heard + sync.peerInterval || advert.at - run.start > silence
    }

    static func title(_ kind: Kind) -> String {
        switch kind {
        case .bothMaster: "both master"
        case .vrrpLostSyncAlive: "VRRP lost, sync alive"
        case .syncLostVRRPAlive: "sync lost, VRRP fine"
        }
    }

    /// "VRRP: VI_1 MASTER, peer 10.0.0.2 last advert 4.1 s ago (priority 100); sync: peer 10.0.1.2 heard 0.3 s ago".
    static func views(_ i: InstanceView, sync: SyncView, now: Instant) -> String {
        func ago(_ t: Instant) -> String { "\(((now - t).secondsValue * 10).rounded() / 10) s ago" }
        let vrrp = "VRRP: \(i.name) \(i.isMaster ? "MASTER" : "not master"), "
            + (i.peerAdvert.map { "peer \($0.source) last advert \(ago($0.at)) (priority \($0.priority))" } ?? "no advert from a peer heard")
        let link = "sync: peer \(sync.peer) " + (sync.lastHeard.map { "heard \(ago($0))" } ?? "never heard")
        let view = i.peerView.map { "; peer view: \(i.name) \($0.state) \(ago($0.at))" } ?? ""
        return vrrp + "; " + link + view
    }
}
