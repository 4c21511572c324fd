#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing

/// `tandem run`: one firewall of the pair, VRRP and state replication in one loop. A VRRP
/// transition drives the replication directly, in the order primary-backup.sh intends but
/// cannot guarantee: on becoming master the replicated flows reach the kernel *before* the
/// virtual addresses are added and announced, so the first redirected packets find their
/// states; on becoming backup the table is purged later and the peer's table requested.
/// While that table has not arrived, the node advertises a lowered priority so it cannot
/// win an election with an empty table (sync-health demotion, like pfsync's of CARP).
public final class FailoverNode {
    public struct Options: Sendable {
        /// Priority points taken off while the peer's table has not arrived (0 = off).
        public var syncDemotion: Int
        /// Run conntrack-tools' primary-backup.sh too when keepalived.conf names it (it
        /// would repeat the commit, dump and bulk send this node already did).
        public var runSyncScripts: Bool
        public init(syncDemotion: Int = 50, runSyncScripts: Bool = false) {
            self.syncDemotion = syncDemotion
            self.runSyncScripts = runSyncScripts
        }
    }

    public typealias Log = (String) -> Void

    let replication: ConntrackdDaemon
    let vrrp: KeepalivedDaemon
    let options: Options
    let log: Log
    let shouldStop: () -> Bool
    var demotion = 0
    var transitionStarted: UInt64 = 0

    public init(keepalived: KeepalivedConfiguration, conntrackd: ConntrackdConfiguration, options: Options = Options(),
                log: @escaping Log, shouldStop: @escaping () -> Bool) throws {
        self.options = options
        self.log = log
        self.shouldStop = shouldStop
        replication = try ConntrackdDaemon(config: conntrackd, log: { log("sync: " + $0) }, shouldStop: shouldStop)
        vrrp = try KeepalivedDaemon(configuration: keepalived, log: { log("vrrp: " + $0) }, shouldStop: shouldStop)
    }

    /// Called once both sides are started (systemd's READY=1).
    public var onReady: (() -> Void)?

    public func run() throws {
        try replication.start()
        vrrp.onTransition = { [unowned self] in self.transition($0) }
        replication.extraStatus = { [unowned self] in
            self.vrrp.statusReport() + (self.demotion > 0 ? "  demoted by \(self.demotion) until the peer's table has arrived\n" : "")
        }
        if !options.runSyncScripts {
            vrrp.isHandledInternally = { ($0.split(separator: "/").last ?? "") == "primary-backup.sh" }
        }
        vrrp.start()
        updateDemotion()
        onReady?()
        while !shouldStop() && !replication.stopRequestedByControl {
            let syncDeadline = replication.nextDeadline
            let vrrpDeadline = vrrp.nextDeadline == .max ? UInt64.max : vrrp.nextDeadline * 1000
            var fds = (replication.pollDescriptors + vrrp.pollDescriptors).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            ConntrackdDaemon.wait(&fds, until: min(syncDeadline, vrrpDeadline))
            // VRRP first: an advert that moves us must act before replication work queues up.
            vrrp.service(now: KeepalivedDaemon.now())
            try replication.service(now: ConntrackdDaemon.monotonicNow(), ready: ConntrackdDaemon.readable(fds))
            updateDemotion()
        }
        replication.flushPendingDatagram()
        vrrp.finish()
        log("stopped")
    }

    /// Demoted exactly while a requested resync is outstanding.
    func updateDemotion() {
        let wanted = replication.resync.isWaiting ? options.syncDemotion : 0
        guard wanted != demotion else { return }
        demotion = wanted
        vrrp.demote(by: wanted)
    }

    func transition(_ t: KeepalivedDaemon.Transition) {
        let now = ConntrackdDaemon.monotonicNow()
        switch t {
        case .willBecomeMaster(let group):
            transitionStarted = now
            masterActions(group, now: now)
        case .becameMaster(let group):
            let ms = Double(ConntrackdDaemon.monotonicNow() - transitionStarted) / 1e6
            log("(\(group)) addresses added and announced \(format(ms)) ms after the transition")
            afterAddresses(group)
        case .becameBackup(let group):
            log("(\(group)) backup actions: kernel table purge in \(replication.sync.purgeTimeout) s, resync requested from the peer")
            replication.schedulePurge(now: now)
            replication.requestResync(now: now)
            updateDemotion()
        case .becameFault(let group):
            log("(\(group)) fault actions: kernel table purge in \(replication.sync.purgeTimeout) s")
            replication.schedulePurge(now: now)
        }
    }

    /// primary-backup.sh's `primary` step (-c, -f, -R, -B), in order, with the result known.
    /// Only the commit comes before the addresses. The committed flows enter the internal
    /// cache as they go to the kernel (the `-R` a dump would do, without the dump on the
    /// way); the bulk send follows the addresses, and a dump a second later reconciles
    /// whatever else the kernel held.
    func masterActions(_ group: String, now: UInt64) {
        var text: String
        replication.releaseInternalCache()
        do {
            let r = try replication.commit(quiet: true, adopt: true)
            text = "committed \(r.succeeded) flows (\(r.failed) failed) in \(format(Double(r.nanoseconds) / 1e6)) ms"
        } catch {
            text = "commit failed: \(error)"
        }
        if replication.resync.isWaiting { text += " (the peer's table had not fully arrived)" }
        replication.releaseExternalCache()
        replication.settleResync(now: now)
        updateDemotion()
        log("(\(group)) master actions: " + text + "; caches flushed, internal cache holds what was committed")
    }

    /// The rest of the primary step, once the addresses are up: `-B`, and the kernel
    /// reconciliation in place of `-R`.
    func afterAddresses(_ group: String) {
        let now = ConntrackdDaemon.monotonicNow()
        replication.sendBulk()
        replication.reconcileWithKernel(after: 1, now: now)
        log("(\(group)) bulk send queued; kernel table reconciled in 1 s; all master actions done "
            + "\(format(Double(now - transitionStarted) / 1e6)) ms after the transition")
    }

    func format(_ ms: Double) -> String {
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
