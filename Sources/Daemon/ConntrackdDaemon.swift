import CLinux
import Logging
#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import Netlink
import StateSync
import IPAddressing
import LinkIO
import Timekeeping

/// `tandem conntrackd`: conntrackd 1.4.7's sync daemon (FTFW, NOTRACK or ALARM over UDP,
/// multicast or TCP) on one thread. This type wires the parts and runs the loop: kernel
/// events come from `KernelEventReader`, the peer's messages through `PeerLink`, the sync
/// protocol is the pure engine in `ModeEngine`, the caches are plain values, the kernel is
/// written by `Committer`, and the control socket's text comes from `ControlPresenter`.
/// Each side of the loop lives in its own extension file (Kernel, Peer, Transmit, Control,
/// Recovery).
public final class ConntrackdDaemon {
    let config: ConntrackdConfiguration
    let sync: ConntrackdConfiguration.Sync
    /// Every line at notice, as conntrackd logs (its lines are what operators grep).
    let log: (String) -> Void
    let shouldStop: () -> Bool
    /// Local flows (spec §5.1). Apart from `state` on purpose: the FTFW engine keeps its
    /// per-flow places here and takes it `inout` for a whole transmit run, while rendering
    /// expectations and bypassed events reads and changes `state`; one value holding both
    /// would be two overlapping accesses.
    var internalCache: InternalCache
    /// The external and expectation caches, resync progress, gap repair, changed in place.
    var state: SyncState
    /// The sync mode's engine (set once: a `let` is read without a retain per message).
    let engine: ModeEngine
    /// The sync link: channels, receiver, coalescer, whether the peer is heard.
    let link: PeerLink
    /// The link messages currently leave on.
    var channel: any SyncChannel { link.active }
    let control: ControlServer?
    /// The kernel's conntrack table, for dumps, flushes and (through `committer`) writes.
    var kernel: ConntrackConnection { committer.kernel }
    /// The kernel's event socket, when there is one; `reader` reads it a turn at a time.
    var events: ConntrackEventListener? { reader?.listener }
    let reader: KernelEventReader?
    /// Which flows are replicated, and what their messages carry.
    let policy: ReplicationPolicy
    var stopping = false
    /// When the kernel's table is next re-read or flushed.
    var schedule = KernelTableSchedule()
    /// Errors the loop survived, by kind.
    var recovery = LoopRecovery()
    var runtime = ConntrackdStatistics.Runtime()
    /// How `-c` commits (quiet or not, timing logged), read from the environment once.
    let commitTuning = CommitTuning.fromEnvironment()
    /// Has the peer's table arrived since we last asked for it (sync health)?
    public var resync: ResyncProgress { state.resync }
    var nextResyncRequest: Instant? { state.resync.nextRequest }
    /// Writes replicated flows into the kernel (commit, and DisableExternalCache's injection).
    var committer: Committer
    /// Messages sent and received per link and kind, for the metrics.
    var messageTally: SyncMessageTally
    /// Every commit of the external cache since start, for the metrics.
    var promotionTally = PromotionTally()
    /// `--metrics-listen`: copies the counters for the HTTP side between turns.
    public var metrics: MetricsFeed?
    /// The sync link's guards without a key (docs/sync-hardening.md).
    var hardening: SyncHardening
    /// The hardened link's refusals by the link they arrived on.
    var channelRefusals: ChannelRefusals
    var sendWindowLog = SendWindowLog()

    /// `aliveInterval`: FTFW's ALIVE pace; `tandem run` quickens it below conntrackd's
    /// second for sub-second adverts (SplitBrainTiming).
    public init(config: ConntrackdConfiguration, logger: Logger, shouldStop: @escaping () -> Bool, syncKeys: SyncKeys? = nil,
                aliveInterval: Duration = SplitBrainTiming.conntrackdAliveInterval) throws {
        guard let sync = config.sync else { throw SetupError.configuration("statistics mode is not supported by tandem yet; configure Sync") }
        self.config = config
        self.sync = sync
        let log: (String) -> Void = { logger.notice("\($0)") }
        self.log = log
        self.shouldStop = shouldStop
        let now = Instant.now()
        runtime.startedAt = now
        let first = UInt32(truncatingIfNeeded: time(nil))
        let (hardened, hardeningNote) = SyncHardening.fromEnvironment()
        hardening = SyncHardening(enabled: hardened)
        if let hardeningNote { log(hardeningNote) }
        switch sync.mode {
        case .notrack:
            engine = .notrack(NotrackEngine<SyncObjectKey>(firstSequence: first, now: now, aliveInterval: aliveInterval))
        case .alarm:
            engine = .alarm(AlarmEngine<SyncObjectKey>(firstSequence: first, refreshSeconds: sync.refreshTime,
                                                           seed: now.nanoseconds))
        default:
            engine = .ftfw(FTFWEngine<SyncObjectKey>(configuration: .init(ackWindowSize: sync.ackWindowSize, resendQueueSize: sync.resendQueueSize,
                                                                                      aliveInterval: aliveInterval,
                                                                                      acknowledgementDelay: Self.acknowledgementDelay,
                                                                                      hardened: hardened),
                                                                firstSequence: first, now: now))
        }
        // ALARM has neither NACKs nor resync requests. The environment switch exists for
        // the tests' control runs only (what the sender alone repairs) and says so.
        let repairOff = getenv("TANDEM_TEST_NO_GAP_REPAIR") != nil
        if repairOff { log("TANDEM_TEST_NO_GAP_REPAIR is set: gaps are NACKed once and never repaired by resync (test-only)") }
        policy = ReplicationPolicy(filter: FlowFilter(rules: config.general.filters),
                                   options: SyncSenderOptions(includeTimeout: sync.commitTimeout == 0, windowTracking: sync.tcpWindowTracking))
        // HashSize: the tables start with room for that many flows (conntrackd's fixed
        // bucket count); Tandem's grow past it instead of chaining.
        let room = min(config.general.hashSize, config.general.hashLimit)
        internalCache = InternalCache(limit: config.general.hashLimit, initialCapacity: room)
        state = SyncState(
            externalCache: ExternalCache(limit: config.general.hashLimit, initialCapacity: room),
            expectations: ExpectationSyncState(setting: sync.expectationSync, limit: config.general.hashLimit, options: policy.options),
            resync: ResyncProgress(acknowledgements: sync.mode == .ftfw),
            gapRepair: GapRepair(configuration: .init(renacks: sync.mode == .ftfw, enabled: sync.mode != .alarm && !repairOff)))
        if getenv("TANDEM_TEST_NO_HANDOVER") != nil {
            state.handover.enabled = false
            log("TANDEM_TEST_NO_HANDOVER is set: after a promotion the peer's messages go to the external cache only (test-only)")
        }
        if !commitTuning.stashes {
            log("TANDEM_TEST_NO_STASH is set: the peer's datagrams wait in the socket during a commit or a dump (test-only)")
        }
        let channels = try ChannelSet.open(sync.channels, hardened: hardened)
        if let syncKeys { channels.authenticator = Self.authenticator(syncKeys, log: log) }
        link = PeerLink(channels: channels, peerAddress: ChannelSet.peerDescription(sync.channels), now: now, log: log)
        messageTally = SyncMessageTally(links: link.channels.channels.count)
        channelRefusals = ChannelRefusals(channels: link.channels.channels.count)
        control = try config.general.unixPath.map { path throws(SetupError) in try ControlServer(path: path) }
        let kernel = try ConntrackConnection()
        committer = Committer(kernel: kernel, commitTimeout: sync.commitTimeout, windowTracking: sync.tcpWindowTracking)
        committer.writesOnTwoThreads = CommitTuning.fromEnvironment().writesOnTwoThreads
        let g = config.general
        // NetlinkBufferSize applies only when set and within the growth limit (spec §5.7).
        let configured = (g.netlinkBufferSize > 0 && g.netlinkBufferSize <= max(g.netlinkBufferSizeMaxGrowth, g.netlinkBufferSize)) ? g.netlinkBufferSize : 2 << 20
        // conntrackd starts at NetlinkBufferSize and grows towards MaxGrowth only after an
        // overrun, so the first burst that outruns it has already lost events. Tandem
        // starts at the ceiling the operator allowed: the kernel charges the memory only
        // while events wait in it.
        let ceiling = max(configured, g.netlinkBufferSizeMaxGrowth)
        let ownPort = kernel.socket.portID, filter = policy.filter
        let configuredFilter = KernelEventFilter.program(g.filters) != nil
        // With DisableExternalCache every replicated flow is written into the kernel from
        // `kernel`, and the kernel would queue each write's event back to the event socket,
        // to be read and skipped: at a burst's rate those echoes are what overran it (and a
        // 1M-flow table's overrun costs a dump of seconds). They are dropped in the kernel.
        // TANDEM_TEST_NO_ECHO_FILTER is the tests' control.
        let echoes: UInt32? = sync.disableExternalCache && ownPort != 0 && getenv("TANDEM_TEST_NO_ECHO_FILTER") == nil ? ownPort : nil
        let program = KernelEventFilter.program(g.filters, droppingEchoesOf: echoes)
        var filterState: String?
        // Events come through the event ring (see EventRing) unless the operator's kernel-space
        // filter needs the socket's classic filter; the ring's program drops our own writes'
        // echoes itself. TANDEM_TEST_EVENT_SOCKET is the tests' and benchmarks' control.
        let ringAllowed = !configuredFilter && getenv("TANDEM_TEST_EVENT_SOCKET") == nil
        var ringRefused = false
        // Every event socket, the first and any reopened after a failure, gets the same
        // groups, buffer, ring or kernel-side filter. The daemon's own filter still runs on
        // what passes: the program only drops what it would drop, and passes on what it cannot judge.
        let open = { () throws -> ConntrackEventListener in
            let events = try ConntrackEventListener(events: sync.expectationSync == .off ? .flows : [.flows, .expectations],
                                                    bufferPolicy: ReceiveBufferPolicy(initial: ceiling, maximum: ceiling),
                                                    reliable: g.netlinkEventsReliable)
            if ringAllowed {
                do {
                    try events.divert(into: EventRing(droppingEchoesOf: echoes ?? 0))
                    return events
                } catch {
                    // Said once: a reopened socket meets the same kernel.
                    if !ringRefused { log("kernel events are read from their socket: the event ring is unavailable (\(error))") }
                    ringRefused = true
                }
            }
            if let program {
                do {
                    try events.socket.attachFilter(try program.instructions())
                    // conntrackd's line, for the operator's filter only.
                    if filterState == nil && configuredFilter { log("using kernel-space event filtering") }
                    filterState = "kernel"
                } catch {
                    if filterState != "userspace" {
                        log(configuredFilter ? "kernel-space event filtering unavailable (\(error)): filtering in userspace"
                                             : "cannot drop our own writes' events in the kernel (\(error)): they are read and skipped")
                    }
                    filterState = "userspace"
                }
            }
            return events
        }
        let makeReader = { try KernelEventReader(open: open, ownPort: ownPort, filter: filter, compact: !sync.disableInternalCache,
                                                           readsPerTurn: g.eventIterationLimit) }
        if let secs = g.pollSeconds {
            // PollSecs (the seed's mode): conntrackd re-reads and re-sends the whole table
            // every N s, so a flow waits up to N s and an idle 250k-flow table costs most
            // of a core. Tandem reads the kernel's events here too and sends what they
            // carry at once; the N-s poll keeps its promise (every change reaches the peer
            // within N s) for what events cannot vouch for: the table at start-up, and
            // whatever an overrun lost. Without an event socket it polls as conntrackd.
            // The event socket is open before start-up's dump, so nothing falls in between:
            // the first poll has nothing to re-read.
            schedule.nextPoll = now
            do {
                reader = try makeReader()
                log("polling mode, PollSecs \(secs): kernel events are replicated at once; the table is re-read within \(secs) s after an event overrun")
            } catch {
                reader = nil
                log("polling mode, PollSecs \(secs): no kernel event socket (\(error)): the table is re-read every \(secs) s")
            }
        } else {
            reader = try makeReader()
        }
    }

    // MARK: loop

    /// `onReady` is called once start-up is done (the kernel table loaded, every socket open);
    /// `afterTurn` after every turn (systemd's watchdog).
    public func run(onReady: () -> Void = {}, afterTurn: () -> Void = {}) throws {
        try start()
        onReady()
        while !stopping && !shouldStop() {
            var fds = pollDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            Self.wait(&fds, until: nextDeadline)
            service(now: Instant.now(), ready: Self.readable(fds))
            afterTurn()
            metrics?.service(now: Instant.now()) { $0.replication = replicationFigures(now: Instant.now()) }
        }
        flushPendingDatagram()
        log("-- exiting --")
    }

    /// Loads the kernel table and, with StartupResync, asks the peer for its table.
    public func start() throws {
        log("-- starting in console mode --")
        try populateFromKernel(send: false)
        try loadExpectationsFromKernel()
        armInjectedFaults()
        if sync.startupResync { requestResync(now: Instant.now()) }
    }

    /// The descriptors an owning loop polls for input.
    public var pollDescriptors: [Int32] {
        var fds = link.descriptors
        if let reader, !reader.isResting(now: Instant.now()) { fds += reader.descriptors }
        if let control { fds += control.descriptors }
        return fds
    }

    /// When `service` next has timed work.
    public var nextDeadline: Instant {
        var deadline = min(engine.nextDeadline, schedule.deadline)
        if let d = nextResyncRequest { deadline = min(deadline, d) }
        if let d = state.gapRepair.nextDeadline { deadline = min(deadline, d) }
        deadline = min(deadline, link.deadline)
        if let until = reader?.restingUntil { deadline = min(deadline, until) }
        if let retry = state.pendingCommit.nextAttempt { deadline = min(deadline, retry) }
        if sentSlice || link.channels.hasStash { deadline = .zero }
        return deadline
    }

    /// `-k` on the control socket.
    public var stopRequestedByControl: Bool { stopping }

    /// Polls `fds` until one is readable or `deadline` (at most 200 ms ahead) passes, to
    /// the microsecond: the loop's short waits (event moderation, datagram coalescing) are
    /// well under poll's millisecond.
    public static func wait(_ fds: inout [pollfd], until deadline: Instant) {
        let wait = min(Instant.now().remaining(until: deadline), .milliseconds(200))
        _ = clinux_poll_ns(&fds, UInt(fds.count), wait.nanosecondCount)
    }

    /// The descriptors a poll found with something to read.
    public static func readable(_ fds: [pollfd]) -> Set<Int32> {
        Set(fds.lazy.filter { $0.revents != 0 }.map(\.fd))
    }

    /// One turn of the loop: kernel events, the peer, the control socket, timers, sends.
    /// `ready`: what the owner's poll found readable, if it polled. The control socket
    /// is then only visited when it has a caller: an `accept` that finds nobody still
    /// makes the kernel build and free a socket and a file, which every turn of a burst
    /// made a twentieth of the sender's CPU.
    public func service(now t: Instant, ready: Set<Int32>? = nil) {
        if !state.released.isEmpty {
            state.released.removeAll()
            // A promotion or demotion just dropped a whole cache. glibc keeps the freed pages,
            // so a node that has been both master and backup would hold both caches' peak for
            // good; handing them back keeps its RSS at what it holds now.
            _ = clinux_return_free_memory()
        }
        var backlogged = false
        if let reader, reader.shouldRead(now: t, ready: ready) {
            do {
                backlogged = try reader.read(now: t)
            } catch {
                eventSocketFailed(reader, "reading kernel events failed: \(error)", now: t)
            }
            handleKernelEvents(reader, now: t)
        }
        handleChannel(now: t)
        if let control, ready.map({ r in control.hasPendingClients || control.descriptors.contains(where: r.contains) }) ?? true {
            handleControl(now: t)
        }
        timers(now: t)
        // While a burst still fills the event socket, reading it comes first: an event
        // the kernel cannot queue is lost (and costs a resync), a message sent a little
        // later is not. So a backlogged turn sends a slice, and reading resumes soon.
        feedBulkWalk()
        flushTransmit(now: t, limit: backlogged ? Self.transmitSlice : .max)
        // A bulk send's next slice goes as soon as this one has.
        sentSlice = backlogged || (state.bulkWalk != nil && engine.transmitBacklog == 0)
    }

    /// The last turn sent only a slice: the next comes at once, even if the event
    /// socket has just gone quiet.
    var sentSlice = false

    /// Objects sent per turn while kernel events are still waiting: a sixteenth of a turn's reads,
    /// so reading stays ahead of the kernel during a burst; the rest goes out after it.
    static let transmitSlice = 256

    /// FTFW: received data is acknowledged within this (see `FTFWEngine.Configuration`). A
    /// peer's lag figure holds up to this much of our delay; at most 200 ACKs a second.
    static let acknowledgementDelay: Duration = .milliseconds(5)

    func timers(now: Instant) {
        engine.fire(now: now)
        link.service(now: now)
        if let r = state.resync.nextRequest, now >= r { requestResync(now: now) }
        repairGaps(now: now)
        if let at = state.pendingCommit.nextAttempt, now >= at { servicePendingCommit(now: now) }
        if sync.mode == .alarm && now >= schedule.nextExpiry {
            state.externalCache.expire(now: now, lifetime: .seconds(sync.cacheTimeout))
            schedule.nextExpiry = now + .seconds(1)
        }
        if let p = schedule.nextPoll, now >= p {
            if schedule.pollPending || events == nil {
                schedule.pollPending = false
                runtime.polls += 1
                do { try populateFromKernel(send: true) } catch { rereadFailed(error, now: now) }
            }
            schedule.nextPoll = now + .seconds(config.general.pollSeconds ?? 5)
        }
        if let r = schedule.resyncAt, now >= r {
            schedule.resyncAt = nil
            runtime.kernelResyncs += 1
            do {
                try populateFromKernel(send: true)
                schedule.rereadSucceeded()
                log("resync with kernel conntrack table done: \(internalCache.activeCount) flows")
            } catch {
                rereadFailed(error, now: now)
            }
        }
        if let p = schedule.purgeAt, now >= p {
            schedule.purgeAt = nil
            runtime.kernelFlushes += 1
            do {
                try kernel.flush()
                log("kernel conntrack table flushed (purge)")
                // Without an external cache the kernel table is where the peer's flows were:
                // what it replicated since the purge was scheduled (the answer to a backup's
                // resync request, too) has just gone with the rest. Asked for again.
                if sync.disableExternalCache && sync.mode != .alarm {
                    requestResync(now: now)
                    log("the peer's flows went with the purge (DisableExternalCache): resync requested")
                }
            } catch {
                recovered(.kernelFlush, "flushing the kernel conntrack table (purge) failed: \(error); the table stays as it is")
            }
        }
    }

    /// More of the node's state for `tandem status` (`tandem run` adds VRRP's).
    public var extraStatus: (() -> String)?
    /// The same for `tandem status --json`: `tandem run` adds VRRP's part and says so in `mode`.
    var extraStatusDocument: ((inout StatusDocument) -> Void)?
    /// The last write of the external cache into the kernel, for the JSON status.
    var lastPromotion: PromotionRecord?
    /// Run from inside a long kernel job, as often as the peer's datagrams are stashed
    /// (`whileBusy`): `tandem run` sends the adverts that fall due meanwhile.
    public var keepUp: (() -> Void)?

    /// Sends a datagram still waiting for company (on the way out).
    func flushPendingDatagram() { link.flush() }

    // MARK: actions (the control socket's, and `tandem run`'s on a VRRP transition)

    /// Asks the peer for its whole table (`-n`); ALARM has no such request.
    public func requestResync(now: Instant) {
        guard sync.mode != .alarm else { return }
        engine.requestResync()
        state.resync.requested(now: now)
        watchResyncAnswer(now: now)
    }

    /// This node's own kernel table is now the reference: no resync to wait for.
    public func settleResync(now: Instant) { state.resync.settle(now: now) }

    /// A promotion's commit is done: for a moment the old master's NEW and DESTROY
    /// messages also go to the kernel (see `PromotionHandover`). No window without an
    /// external cache (every message goes to the kernel anyway).
    public func beginHandover(now: Instant) {
        guard !sync.disableExternalCache else { return }
        let window = PromotionHandover.window(purgeTimeout: sync.purgeTimeout)
        state.handover.begin(now: now, window: window)
        if state.handover.until != nil {
            log("handover: for \(window.millisecondsRoundedUp) ms the peer's new and ended flows also go to the kernel")
        }
    }

    /// `-f`: empties both caches.
    public func flushCaches() {
        schedule.purgeAt = nil
        state.pendingCommit.cancel()
        internalCache.removeAll()
        state.externalCache.removeAll()
        flushExpectationCaches()
    }

    /// A new master's `-f -R` without the dump on its critical path: the internal cache is
    /// emptied before a `commit(adopt:)` refills it with exactly what went into the kernel,
    /// then the external cache is emptied; `reconcileWithKernel(after:)` later catches
    /// what the kernel held besides (sending only what differs).
    public func releaseInternalCache() {
        schedule.purgeAt = nil
        state.released.append((internalCache.takeAll(), FlowTable()))
    }

    public func releaseExternalCache() {
        state.released.append((FlowTable(), state.externalCache.takeAll()))
        flushExpectationCaches()
    }

    /// Schedules a kernel dump that sends what the internal cache lacks or has wrong.
    public func reconcileWithKernel(after delay: Duration, now: Instant) {
        schedule.resyncAt = now + delay
    }

    /// `-R`: reloads the internal cache from the kernel table.
    public func resyncWithKernel() throws {
        try populateFromKernel(send: false)
        try loadExpectationsFromKernel()
    }

    /// `-B`: sends the whole internal cache to the peer.
    public func sendBulk() { if sync.mode != .alarm { bulkSend() } }

    /// `-t`: flushes the kernel table after PurgeTimeout.
    /// A commit or a cache flush cancels it; a pending one is not moved.
    public func schedulePurge(now: Instant) {
        state.pendingCommit.cancel()
        guard schedule.purgeAt == nil else { return }
        schedule.purgeAt = now + .seconds(sync.purgeTimeout)
        log("flushing conntrack table in \(sync.purgeTimeout) secs")
    }

    public var externalFlowCount: Int { state.externalCache.entries.count }
}
