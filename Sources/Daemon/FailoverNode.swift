#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import StateSync
import Logging
import Timekeeping

/// `tandem run`: one firewall of the pair, VRRP and state replication in one loop. A VRRP
/// transition drives the replication directly, in the order primary-backup.sh intends but
/// cannot guarantee: a unit becoming master runs the `Promotion` sequence, whose commit
/// puts the replicated flows in the kernel *before* VRRP lets the unit announce itself
/// (KeepalivedDaemon holds its adverts, addresses and GARP until then), so the first
/// redirected packets find their states; on becoming backup the table is purged later and
/// the peer's table requested.
/// While that table has not arrived, the node advertises a lowered priority so it cannot
/// win an election with an empty table (sync-health demotion, like pfsync's of CARP).
public final class FailoverNode {
    public struct Options: Sendable {
        /// Priority points taken off while the peer's table has not arrived (0 = off).
        public var syncDemotion: Int
        /// Run conntrack-tools' primary-backup.sh too when keepalived.conf names it (it
        /// would repeat the commit, dump and bulk send this node already did).
        public var runSyncScripts: Bool
        /// Run with (kind, instance, begin|end) when a split brain is suspected or over.
        public var notifySplitBrain: String?
        /// `--sync-key` (and `--sync-key-next`): the sync link authenticated.
        public var syncKeys: SyncKeys?
        /// `--peer-view PORT`: VRRP states exchanged with a Tandem peer (docs/split-brain.md).
        public var peerViewPort: UInt16?
        public init(syncDemotion: Int = 50, runSyncScripts: Bool = false, notifySplitBrain: String? = nil, syncKeys: SyncKeys? = nil,
                    peerViewPort: UInt16? = nil) {
            self.syncDemotion = syncDemotion
            self.runSyncScripts = runSyncScripts
            self.notifySplitBrain = notifySplitBrain
            self.syncKeys = syncKeys
            self.peerViewPort = peerViewPort
        }
    }

    let replication: ConntrackdDaemon
    let vrrp: KeepalivedDaemon
    let options: Options
    let log: (String) -> Void
    let shouldStop: () -> Bool
    var demotion = 0
    var splitBrain = SplitBrainWatch()
    /// `--peer-view`: nil without the flag.
    var peerView: PeerViewLink?

    public init(keepalived: KeepalivedConfiguration, conntrackd: ConntrackdConfiguration, options: Options = Options(),
                logger: Logger, shouldStop: @escaping () -> Bool) throws {
        self.options = options
        log = { logger.notice("\($0)") }
        self.shouldStop = shouldStop
        // The sync link's pace follows VRRP's: the split-brain reports need it (SplitBrainTiming).
        let timing = SplitBrainTiming(advertInterval: Self.shortestAdvertInterval(keepalived))
        replication = try ConntrackdDaemon(config: conntrackd, logger: logger.part("sync"), shouldStop: shouldStop, syncKeys: options.syncKeys,
                                           aliveInterval: timing.aliveInterval)
        vrrp = try KeepalivedDaemon(configuration: keepalived, logger: logger.part("vrrp"), shouldStop: shouldStop)
        splitBrain.timing = timing
        if timing.aliveInterval < SplitBrainTiming.conntrackdAliveInterval {
            log("sync ALIVE every \(timing.aliveInterval.microsecondCount / 1_000) ms (3/4 of the shortest advert interval), "
                + "split brain judged every \(timing.checkPeriod.microsecondCount / 1_000) ms")
        }
        if let port = options.peerViewPort {
            let log = self.log
            peerView = try PeerViewLink(sync: replication.sync, port: port, keys: options.syncKeys, interval: timing.aliveInterval, log: log)
            log("peer view on UDP port \(port): VRRP states exchanged with the sync peer (docs/split-brain.md)")
        }
    }

    /// Called after every loop turn (the owner's signals: reload, dumps).
    public var afterTurn: (() -> Void)?

    /// `--metrics-listen`: copies both halves' figures for the HTTP side between turns.
    public var metrics: MetricsFeed?

    /// The VRRP half, for the owner's reloads and dumps.
    public var keepalived: KeepalivedDaemon { vrrp }

    /// The replication half, for the owner's key rotation.
    public var conntrackd: ConntrackdDaemon { replication }

    /// `onReady` is called once both sides are started (systemd's READY=1).
    public func run(onReady: () -> Void = {}) throws {
        try replication.start()
        vrrp.ownedByNode = true
        replication.extraStatus = { [unowned self] in
            self.vrrp.statusReport() + (self.demotion > 0 ? "  demoted by \(self.demotion) until the peer's table has arrived\n" : "")
                + self.splitBrainStatus(now: Instant.now())
        }
        replication.extraStatusDocument = { [unowned self] document in
            document.mode = .run
            document.vrrp = self.vrrp.statusDocument()
            document.splitBrain = self.splitBrainDocument(now: Instant.now())
        }
        if !options.runSyncScripts {
            vrrp.isHandledInternally = { ($0.split(separator: "/").last ?? "") == "primary-backup.sh" }
        }
        // A long kernel job (a dump of a million flows after an event overrun) holds the
        // loop for seconds: a master's adverts go on from inside it, or its backup takes
        // over; a backup reads its master's there. TANDEM_TEST_NO_KEEP_ADVERTISING and
        // TANDEM_TEST_NO_BUSY_ADVERT_READ are the tests' controls.
        let readsAdverts = getenv("TANDEM_TEST_NO_BUSY_ADVERT_READ") == nil
        if !readsAdverts { log("test switch TANDEM_TEST_NO_BUSY_ADVERT_READ: a backup reads no adverts during long kernel jobs") }
        if getenv("TANDEM_TEST_NO_KEEP_ADVERTISING") == nil {
            replication.keepUp = { [unowned self] in self.vrrp.keepUp(now: Instant.now(), readsAdverts: readsAdverts) }
        } else {
            log("test switch TANDEM_TEST_NO_KEEP_ADVERTISING: no adverts during long kernel jobs")
        }
        vrrp.start()
        followVRRP()
        onReady()
        while !shouldStop() && !replication.stopRequestedByControl {
            var fds = (replication.pollDescriptors + vrrp.pollDescriptors + (peerView?.descriptors ?? []))
                .map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            ConntrackdDaemon.wait(&fds, until: min(replication.nextDeadline, vrrp.nextDeadline, splitBrain.nextCheck))
            // VRRP first: an advert that moves us must act before replication work queues up.
            vrrp.service(now: Instant.now())
            followVRRP()
            replication.service(now: Instant.now(), ready: ConntrackdDaemon.readable(fds))
            followVRRP()
            if let afterTurn {
                afterTurn()
                followVRRP()
            }
            servicePeerView(now: Instant.now())
            watchSplitBrain(now: Instant.now())
            metrics?.service(now: Instant.now()) { snapshot in
                snapshot.replication = replication.replicationFigures(now: Instant.now())
                snapshot.vrrp = vrrp.vrrpFigures()
            }
        }
        replication.flushPendingDatagram()
        vrrp.finish()
        log("stopped")
    }

    /// Acts on what VRRP did, in order, and keeps the sync-health demotion current (a
    /// demotion can move VRRP again, hence the loop; it settles within two rounds).
    func followVRRP() {
        repeat {
            for t in vrrp.takeTransitions() { transition(t) }
            updateDemotion()
        } while vrrp.hasTransitions
    }

    /// Demoted exactly while a requested resync is outstanding.
    func updateDemotion() {
        let wanted = replication.resync.isWaiting ? options.syncDemotion : 0
        guard wanted != demotion else { return }
        demotion = wanted
        vrrp.demote(by: wanted)
    }

    func transition(_ t: KeepalivedDaemon.Transition) {
        let now = Instant.now()
        switch t {
        case .master(let unit):
            let promotion = PromotionDriver.run(unit: unit, clock: Instant.now, replication: self, vrrp: vrrp, log: log)
            // The commit recorded itself as the control socket's; it was this unit's promotion.
            replication.lastPromotion?.unit = unit
            replication.lastPromotion?.announcedAfter = promotion.announcedAfter
            if let after = promotion.announcedAfter { replication.promotionTally.announceDelays.append(after) }
        case .backup(let unit):
            log("(\(unit)) backup actions: kernel table purge in \(replication.sync.purgeTimeout) s, resync requested from the peer")
            replication.schedulePurge(now: now)
            replication.requestResync(now: now)
        case .fault(let unit):
            log("(\(unit)) fault actions: kernel table purge in \(replication.sync.purgeTimeout) s")
            replication.schedulePurge(now: now)
        }
    }
}

extension FailoverNode: PromotionReplication {
    /// The committed flows enter the internal cache as they go to the kernel (the `-R` a
    /// dump would do, without the dump on the way). The sync-health demotion ends with
    /// the commit, so the unit's first advert carries its full priority.
    func commitForPromotion(now: Instant) -> Promotion.CommitOutcome {
        var outcome = Promotion.CommitOutcome()
        replication.releaseInternalCache()
        do {
            let r = try replication.commit(quiet: true, adopt: true)
            outcome.succeeded = r.succeeded
            outcome.failed = r.failed
            outcome.duration = r.duration
        } catch {
            outcome.error = "\(error)"
        }
        outcome.peerTableIncomplete = replication.resync.isWaiting
        if outcome.error == nil {
            replication.releaseExternalCache()
            replication.beginHandover(now: Instant.now())
        } else {
            // The kernel may hold only part of it: what was replicated stays for `conntrackd -c`.
            log("external cache kept (\(replication.externalFlowCount) flows) after the failed commit: commit again with conntrackd -c")
        }
        replication.settleResync(now: now)
        updateDemotion()
        return outcome
    }

    func sendTable(reconcileAfter delay: Duration, now: Instant) {
        replication.sendBulk()
        replication.reconcileWithKernel(after: delay, now: now)
    }
}

extension KeepalivedDaemon: PromotionAnnouncer {}
