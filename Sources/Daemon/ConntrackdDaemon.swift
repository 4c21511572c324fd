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

/// `tandem conntrackd`: conntrackd 1.4.7's sync daemon (FTFW over UDP) on one thread.
/// The loop owns every socket; the protocol is the pure FTFWEngine; the caches are plain
/// values. I/O happens only here.
public final class ConntrackdDaemon {
    let config: ConntrackdConfiguration
    let sync: ConntrackdConfiguration.Sync
    /// Every line at notice, as conntrackd logs (its lines are what operators grep).
    let log: (String) -> Void
    let shouldStop: () -> Bool
    var internalCache: InternalCache
    var externalCache: ExternalCache
    var engine: ModeEngine
    var expectations: ExpectationSyncState
    var internalBypass = InternalBypass()
    var receiver = SyncReceiver()
    let channels: ChannelSet
    /// The link messages currently leave on.
    var channel: any SyncChannel { channels.active }
    let control: ControlServer?
    let kernel: ConntrackConnection
    let events: ConntrackEventListener?
    /// Reads `events` a turn at a time.
    let reader: KernelEventReader?
    let options: SyncSenderOptions
    let peerAddress: String
    let filter: FlowFilter
    var stopping = false
    var nextPoll: UInt64?
    /// PollSecs with events: the next poll re-reads the kernel table (after an overrun).
    var pollPending = false
    var resyncAt: UInt64?
    var purgeAt: UInt64?
    /// ALARM: external entries are expired once a second, not on every loop turn.
    var nextExpiry: UInt64 = 0
    var runtime = ConntrackdStatistics.Runtime()
    /// Messages the sync mode refused (BAD): "Malformed header".
    var modeMalformed = 0
    /// Bytes and packets of destroyed flows ("traffic processed").
    var trafficBytes: UInt64 = 0, trafficPackets: UInt64 = 0
    let startedAt: UInt64
    /// Has the peer's table arrived since we last asked for it (sync health)?
    public private(set) var resync: ResyncProgress
    var nextResyncRequest: UInt64? { resync.nextRequest }
    public private(set) var peer: PeerLiveness
    /// Writes replicated flows into the kernel (commit, and DisableExternalCache's injection).
    var committer: Committer
    /// Gaps in the peer's messages that its resends may not have filled.
    var gapRepair: GapRepair
    /// The resync asked for by gap repair, while its answer is on the way.
    var gapResync: GapResync?

    public static func monotonicNow() -> UInt64 { MonotonicClock.nanoseconds() }

    public init(config: ConntrackdConfiguration, logger: Logger, shouldStop: @escaping () -> Bool) throws {
        guard let sync = config.sync else { throw SetupError.configuration("statistics mode is not supported by tandem yet; configure Sync") }
        self.config = config
        self.sync = sync
        peerAddress = ChannelSet.peerDescription(sync.channels)
        let log: (String) -> Void = { logger.notice("\($0)") }
        self.log = log
        self.shouldStop = shouldStop
        filter = FlowFilter(rules: config.general.filters)
        let now = Self.monotonicNow()
        startedAt = now
        resync = ResyncProgress(acknowledgements: sync.mode == .ftfw)
        self.peer = PeerLiveness(now: now)
        internalCache = InternalCache(limit: config.general.hashLimit)
        externalCache = ExternalCache(limit: config.general.hashLimit)
        let first = UInt32(truncatingIfNeeded: time(nil))
        switch sync.mode {
        case .notrack:
            engine = .notrack(NotrackEngine<SyncObjectKey>(firstSequence: first, now: now))
        case .alarm:
            engine = .alarm(AlarmEngine<SyncObjectKey>(firstSequence: first, refreshSeconds: sync.refreshTime,
                                                           seed: UInt64(truncatingIfNeeded: now)))
        default:
            engine = .ftfw(FTFWEngine<SyncObjectKey>(configuration: .init(ackWindowSize: sync.ackWindowSize, resendQueueSize: sync.resendQueueSize),
                                                                firstSequence: first, now: now))
        }
        // ALARM has neither NACKs nor resync requests. The environment switch exists for
        // the tests' control runs only (what the sender alone repairs) and says so.
        let repairOff = getenv("TANDEM_TEST_NO_GAP_REPAIR") != nil
        gapRepair = GapRepair(configuration: .init(renacks: sync.mode == .ftfw, enabled: sync.mode != .alarm && !repairOff))
        if repairOff { log("TANDEM_TEST_NO_GAP_REPAIR is set: gaps are NACKed once and never repaired by resync (test-only)") }
        options = SyncSenderOptions(includeTimeout: sync.commitTimeout == 0, windowTracking: sync.tcpWindowTracking)
        expectations = ExpectationSyncState(setting: sync.expectationSync, limit: config.general.hashLimit, options: options)
        channels = try ChannelSet.open(sync.channels)
        control = try config.general.unixPath.map { path throws(SetupError) in try ControlServer(path: path) }
        kernel = try ConntrackConnection()
        committer = Committer(kernel: kernel, commitTimeout: sync.commitTimeout, windowTracking: sync.tcpWindowTracking)
        let g = config.general
        // NetlinkBufferSize applies only when set and within the growth limit (spec §5.7).
        let configured = (g.netlinkBufferSize > 0 && g.netlinkBufferSize <= max(g.netlinkBufferSizeMaxGrowth, g.netlinkBufferSize)) ? g.netlinkBufferSize : 2 << 20
        // conntrackd starts at NetlinkBufferSize and grows towards MaxGrowth only after an
        // overrun, so the first burst that outruns it has already lost events. Tandem
        // starts at the ceiling the operator allowed: the kernel charges the memory only
        // while events wait in it.
        let ceiling = max(configured, g.netlinkBufferSizeMaxGrowth)
        let open = {
            try ConntrackEventListener(events: sync.expectationSync == .off ? .flows : [.flows, .expectations],
                                       bufferPolicy: ReceiveBufferPolicy(initial: ceiling, maximum: ceiling),
                                       reliable: g.netlinkEventsReliable)
        }
        if let secs = g.pollSeconds {
            // PollSecs (the seed's mode): conntrackd re-reads and re-sends the whole table
            // every N s, so a flow waits up to N s and an idle 250k-flow table costs most
            // of a core. Tandem reads the kernel's events here too and sends what they
            // carry at once; the N-s poll keeps its promise (every change reaches the peer
            // within N s) for what events cannot vouch for: the table at start-up, and
            // whatever an overrun lost. Without an event socket it polls as conntrackd.
            // The event socket is open before start-up's dump, so nothing falls in between:
            // the first poll has nothing to re-read.
            nextPoll = now
            do {
                events = try open()
                log("polling mode, PollSecs \(secs): kernel events are replicated at once; the table is re-read within \(secs) s after an event overrun")
            } catch {
                events = nil
                log("polling mode, PollSecs \(secs): no kernel event socket (\(error)): the table is re-read every \(secs) s")
            }
        } else {
            events = try open()
        }
        let ownPort = kernel.socket.portID, filter = filter
        reader = events.map { KernelEventReader(listener: $0, ownPort: ownPort, filter: filter, compact: !sync.disableInternalCache) }
        if let events, let program = KernelEventFilter.program(g.filters) {
            // The daemon's own filter still runs on what passes: the program only drops
            // what it would drop, and passes on what it cannot judge.
            do {
                try events.socket.attachFilter(try program.instructions())
                log("using kernel-space event filtering")
            } catch {
                log("kernel-space event filtering unavailable (\(error)): filtering in userspace")
            }
        }
    }

    // MARK: loop

    /// Called once start-up is done (the kernel table loaded, every socket open).
    public var onReady: (() -> Void)?

    public func run() throws {
        try start()
        onReady?()
        while !stopping && !shouldStop() {
            var fds = pollDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            Self.wait(&fds, until: nextDeadline)
            try service(now: Self.monotonicNow(), ready: Self.readable(fds))
        }
        flushPendingDatagram()
        log("-- exiting --")
    }

    /// Loads the kernel table and, with StartupResync, asks the peer for its table.
    public func start() throws {
        log("-- starting in console mode --")
        try populateFromKernel(send: false)
        try loadExpectationsFromKernel()
        if sync.startupResync { requestResync(now: Self.monotonicNow()) }
    }

    /// The descriptors an owning loop polls for input.
    public var pollDescriptors: [Int32] {
        var fds = channels.descriptors
        if let reader, !reader.isResting(now: Self.monotonicNow()) { fds.append(reader.descriptor) }
        if let control { fds += control.descriptors }
        return fds
    }

    /// When `service` next has timed work (monotonic nanoseconds).
    public var nextDeadline: UInt64 {
        var deadline = engine.nextDeadline
        for d in [nextPoll, resyncAt, purgeAt, nextResyncRequest, gapRepair.nextDeadline].compactMap({ $0 }) { deadline = min(deadline, d) }
        deadline = min(deadline, peer.deadline)
        if let due = coalescer.deadline { deadline = min(deadline, due) }
        if let until = reader?.restingUntil { deadline = min(deadline, until) }
        if sentSlice { deadline = 0 }
        return deadline
    }

    /// `-k` on the control socket.
    public var stopRequestedByControl: Bool { stopping }

    /// Polls `fds` until one is readable or `deadline` (monotonic nanoseconds; at most
    /// 200 ms ahead) passes, to the microsecond: the loop's short waits (event moderation,
    /// datagram coalescing) are well under poll's millisecond.
    public static func wait(_ fds: inout [pollfd], until deadline: UInt64) {
        let now = monotonicNow()
        let ns = deadline > now ? min(deadline - now, 200_000_000) : 0
        _ = clinux_poll_ns(&fds, UInt(fds.count), Int64(ns))
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
    public func service(now t: UInt64, ready: Set<Int32>? = nil) throws {
        released.removeAll()
        var backlogged = false
        if let reader, reader.shouldRead(now: t, ready: ready) {
            backlogged = try reader.read(now: t)
            handleKernelEvents(reader, now: t)
        }
        handleChannel(now: t)
        if let control, ready.map({ r in control.hasPendingClients || control.descriptors.contains(where: r.contains) }) ?? true {
            try handleControl(now: t)
        }
        try timers(now: t)
        // While a burst still fills the event socket, reading it comes first: an event
        // the kernel cannot queue is lost (and costs a resync), a message sent a little
        // later is not. So a backlogged turn sends a slice, and reading resumes soon.
        flushTransmit(now: t, limit: backlogged ? Self.transmitSlice : .max)
        sentSlice = backlogged
    }

    /// The last turn sent only a slice: the next comes at once, even if the event
    /// socket has just gone quiet.
    var sentSlice = false

    /// Objects sent per turn while kernel events are still waiting: a sixteenth of a turn's reads,
    /// so reading stays ahead of the kernel during a burst; the rest goes out after it.
    static let transmitSlice = 256

    /// How far ahead of recording a compact event its cache slot is prefetched.
    static let prefetchDistance = 16

    /// Records a turn's kernel events in the internal cache and queues them for the peer.
    /// A compact event's cache slot is prefetched a few events before it is recorded, so
    /// the cache misses, which were the largest single cost of recording an event, overlap
    /// with the work on the events before it.
    func handleKernelEvents(_ reader: KernelEventReader, now: UInt64) {
        var events: [KernelEvent] = []
        swap(&events, &reader.events)
        defer {
            events.removeAll(keepingCapacity: true)
            swap(&events, &reader.events)
        }
        func prefetch(_ i: Int) {
            if i < events.count, case .compact(_, let key, _) = events[i] { internalCache.prefetch(key) }
        }
        for i in 0 ..< min(Self.prefetchDistance, events.count) { prefetch(i) }
        for i in events.indices {
            prefetch(i + Self.prefetchDistance)
            switch events[i] {
            case .compact(let kind, let key, let p):
                if let k = internalCache.record(packed: p, key: key, kind: kind, now: now) { engine.enqueue(.flow(k), places: &internalCache) }
            case .flow(let kind, let flow):
                if kind == .destroy {
                    for c in [flow.countersOriginal, flow.countersReply].compactMap({ $0 }) {
                        trafficBytes += c.bytes
                        trafficPackets += c.packets
                    }
                }
                if bypassesInternalCache { bypass(flow, kind: kind); continue }
                if let key = internalCache.record(flow, kind: kind, now: now) { engine.enqueue(.flow(key), places: &internalCache) }
            case .overrun:
                runtime.overruns += 1
                if nextPoll != nil {
                    if !pollPending { log("netlink event socket overrun: the table is re-read at the next poll") }
                    pollPending = true
                } else if let delay = config.general.netlinkOverrunResync, resyncAt == nil {
                    resyncAt = now + UInt64(delay) * 1_000_000_000
                    log("netlink event socket overrun: resync with the kernel in \(delay)s")
                }
            case .malformed(let reason):
                runtime.catchEventFailed += 1
                log("malformed netlink event skipped: \(reason)")
            case .expectation(let kind, let x, let origin):
                handleExpectationEvent(kind, x, origin: origin, now: now)
            }
        }
    }

    func handleChannel(now: UInt64) {
        let foreign = foreignDatagrams
        defer {
            // One line per burst, not per datagram: a flood must not flood the log too.
            if foreignDatagrams > foreign, let a = channels.channels.compactMap(\.lastForeignSource).last {
                log("ignored \(foreignDatagrams - foreign) datagram(s) not from the peer, last from \(IPAddress.v4(a))")
            }
        }
        var injections: [(SyncMessageType, SyncedFlow)] = []
        defer { if !injections.isEmpty { inject(injections) } }
        // Messages are handled as they are decoded: a turn's datagrams never exist as
        // an array of decoded messages, and a data message is applied without being
        // copied into an engine event.
        var heard = false
        var events: [SyncEngineEvent] = []
        func arrived(on index: Int) {
            if !heard {
                heard = true
                if case .heardAgain(let after) = peer.heard(now: now) {
                    log("peer \(peerAddress) heard again after \(after / 1_000_000_000) s of silence")
                }
            }
        }
        /// A message the mode will judge arrived on link `index`: answer on that link.
        func judging(on index: Int) {
            if let line = channels.follow(index) { log(line) }
            events.removeAll(keepingCapacity: true)
        }
        func handleEvents() {
            for e in events {
                switch e {
                case .apply: break
                case .resyncRequested:
                    log("resync requested by other node")
                    bulkSend()
                case .peerAcknowledged(let range):
                    if resync.isWaiting || gapResync != nil, let s = engine.lastResyncSequence, range.contains(s) {
                        if resync.isWaiting { resync.requestAcknowledged() }
                        gapResync?.progress.requestAcknowledged()
                    } else {
                        peerTick(now: now)
                    }
                case .peerAlive:
                    peerTick(now: now)
                case .malformed:
                    modeMalformed += 1
                case .peerHello:
                    break
                case .sequenceGap(let range):
                    gapRepair.gap(range, now: now)
                }
            }
        }
        // FTFW with an external cache: flow messages that fit the cache's packed form
        // are decoded straight into it, and never exist as a `SyncedFlow`.
        let fastFlow: ((Int, SyncHeader, SyncMessageType, UnsafeRawBufferPointer) -> Bool)? =
            !engine.isFTFW || sync.disableExternalCache ? nil : { index, header, type, payload in
                guard let p = CompactSyncedFlow.Packed(payload: payload) else { return false }
                arrived(on: index)
                judging(on: index)
                if self.engine.receiveData(flags: header.flags, sequence: header.sequence, places: &self.internalCache, events: &events) {
                    self.externalCache.apply(type, packed: p, now: now)
                }
                handleEvents()
                return true
            }
        channels.receive(into: &receiver, fastFlow: fastFlow) { index, received in
            arrived(on: index)
            guard case .message(let m) = received else { return }
            judging(on: index)
            if engine.receive(m, places: &internalCache, events: &events) {
                switch m.body {
                case .expectation(let x): applyReceived(m.type, x, now: now)
                case .flow(let f):
                    if sync.disableExternalCache { injections.append((m.type, f)) } else { externalCache.apply(m.type, f, now: now) }
                case .control: break
                }
            }
            handleEvents()
        }
    }

    func repairGaps(now: UInt64) {
        for action in gapRepair.fire(now: now) {
            switch action {
            case .nack(let range):
                engine.requestRetransmission(range)
            case .requestResync(let reason):
                log("requesting the peer's whole table (resync): \(reason)")
                engine.requestResync()
                if !sync.disableExternalCache { gapResync = GapResync(mark: now, gaps: gapsSeen, acknowledgements: engine.isFTFW) }
            }
        }
    }

    func peerTick(now: UInt64) {
        if resync.receivedTick(now: now) {
            log("resync complete: \(externalCache.entries.count) flows in the external cache")
        }
        if gapResync?.progress.receivedTick(now: now) == true, let done = gapResync {
            gapResync = nil
            // Only a table that arrived without a gap of its own proves what the peer lacks.
            if gapsSeen == done.gaps {
                let removed = externalCache.removeNotUpdated(since: done.mark)
                gapRepair.recordStaleRemoved(removed)
                log("the peer's table arrived whole: \(externalCache.entries.count) flows, \(removed) stale flow(s) it no longer has removed")
            } else {
                log("the peer's table arrived with gaps of its own: stale flows are kept until the next resync")
            }
        }
    }

    /// Gaps and jumps seen so far, to tell whether a resync's answer had any.
    var gapsSeen: Int { gapRepair.counters.gaps + gapRepair.counters.jumps }

    /// Datagrams dropped across all links because they did not come from the peer.
    var foreignDatagrams: Int { channels.channels.reduce(0) { $0 + $1.foreignDatagrams } }

    func timers(now: UInt64) throws {
        engine.fire(now: now)
        if let line = channels.service(now: now) { log(line) }
        if case .fellSilent(let d) = peer.check(now: now) {
            let errors = channel.counters.sendErrors
            log("no message from peer \(peerAddress) for \(d / 1_000_000_000) s (\(errors) send errors so far): unreachable or stopped; still sending")
        }
        if let r = resync.nextRequest, now >= r { requestResync(now: now) }
        repairGaps(now: now)
        if sync.mode == .alarm && now >= nextExpiry {
            externalCache.expire(now: now, lifetime: UInt64(sync.cacheTimeout) * 1_000_000_000)
            nextExpiry = now + 1_000_000_000
        }
        if let p = nextPoll, now >= p {
            if pollPending || events == nil {
                pollPending = false
                runtime.polls += 1
                try populateFromKernel(send: true)
            }
            nextPoll = now + UInt64(config.general.pollSeconds ?? 5) * 1_000_000_000
        }
        if let r = resyncAt, now >= r {
            resyncAt = nil
            runtime.kernelResyncs += 1
            try populateFromKernel(send: true)
            log("resync with kernel conntrack table done: \(internalCache.activeCount) flows")
        }
        if let p = purgeAt, now >= p {
            purgeAt = nil
            runtime.kernelFlushes += 1
            try kernel.flush()
            log("kernel conntrack table flushed (purge)")
        }
    }

    func flushTransmit(now: UInt64, limit objectLimit: Int = .max) {
        // Each message is encoded into the batch as the engine makes it (a bulk send of
        // 100k flows never exists as 100k messages at once) and packed into datagrams
        // (spec §4.4); every 64 datagrams go out in one system call. What is left at the
        // end goes out now or, while messages are streaming, may wait a little for company.
        let limit = channel.maximumPayload
        // Out of the daemon for the run: the emit closures touch it once per message.
        var out = TransmitCoalescer()
        swap(&out, &coalescer)
        if engine.isFTFW {
            engine.transmitFTFW(now: now, limit: objectLimit, places: &internalCache, render: { object, slot, cache in
                // `cache` is the internal cache, lent to the engine for this run.
                self.outgoing(object, at: slot, in: cache)
            }, emitObject: { type, flags, sequence, object in
                switch object {
                case .packed(let p):
                    withUnsafeTemporaryAllocation(byteCount: CompactFlow.Packed.messageCapacity, alignment: 8) { scratch in
                        let n = p.writeMessage(type: type, flags: flags, sequence: sequence, options: self.options, to: scratch.baseAddress!)
                        out.batch.makeRoom(for: n, limit: limit)
                        out.batch.append(UnsafeRawBufferPointer(start: scratch.baseAddress, count: n))
                    }
                case .message(let body):
                    let start = out.batch.bytes.count
                    SyncMessage(type: type, flags: flags, sequence: sequence, body: body).encode(into: &out.batch.bytes)
                    out.batch.settle(messageAt: start, limit: limit)
                }
                out.sendClosed(through: channels)
            }, emitControl: { c in
                let start = out.batch.bytes.count
                c.encode(into: &out.batch.bytes)
                out.batch.settle(messageAt: start, limit: limit)
                out.sendClosed(through: channels)
            })
        } else {
            engine.transmitOther(now: now, render: { object in
                guard case .flow(let key) = object else { return self.render(other: object) }
                guard let e = self.internalCache.entries[key] else { return nil }
                return (Self.messageType(e.state), .flow(e.stored.synced(options: self.options)))
            }, emit: { m in
                let start = out.batch.bytes.count
                m.encode(into: &out.batch.bytes)
                out.batch.settle(messageAt: start, limit: limit)
                out.sendClosed(through: channels)
            })
        }
        out.endRun(now: now, through: channels)
        coalescer = out
        // Only dead entries are freed on release: with none, skip the per-key look-ups.
        if internalCache.deadCount > 0 || expectations.enabled {
            for object in engine.takeReleased(places: internalCache) { forget(object) }
        } else {
            engine.discardReleased()
        }
    }


    /// What the FTFW engine sends for an object: a packed flow is encoded straight
    /// from its cache record, anything else through its message.
    enum OutgoingObject {
        case packed(CompactFlow.Packed)
        indirect case message(SyncMessage.Body)
    }

    func outgoing(_ object: SyncObjectKey, at slot: InternalCache.Slot, in cache: InternalCache) -> (SyncMessageType, OutgoingObject)? {
        switch slot {
        case .flow(let p):
            let type = Self.messageType(cache.entries[valueAt: p].state)
            if case .packed(let packed) = cache.entries[valueAt: p].stored { return (type, .packed(packed)) }
            return (type, .message(.flow(cache.entries[valueAt: p].stored.synced(options: options))))
        case .other(let key):
            return render(other: key).map { ($0.0, .message($0.1)) }
        }
    }

    static func messageType(_ state: InternalCache.State) -> SyncMessageType {
        switch state {
        case .new: .flowNew
        case .alive: .flowUpdate
        case .dead: .flowDestroy
        }
    }

    /// More of the node's state for `tandem status` (`tandem run` adds VRRP's).
    public var extraStatus: (() -> String)?

    /// Packs messages into datagrams and decides when they leave.
    var coalescer = TransmitCoalescer()

    /// Sends a datagram still waiting for company (on the way out).
    func flushPendingDatagram() { coalescer.flush(through: channels) }

    /// Dumps the kernel table into the internal cache. With `send`, changed entries are
    /// sent and vanished ones destroyed (resync after overrun, and PollSecs polling —
    /// where, unlike conntrackd, unchanged entries are not sent again every poll).
    func populateFromKernel(send: Bool) throws {
        guard !bypassesInternalCache else {
            if send { log("resync is unsupported in this mode") }
            return
        }
        let now = Self.monotonicNow()
        guard send else {
            // `-R` and start-up: nothing to compare or send, so one cache write per flow.
            try kernel.dump { flow in
                guard filter.passes(flow) else { return }
                _ = self.internalCache.record(flow, kind: .new, now: now)
            }
            return
        }
        // Sized for the table up front: growing it rehashed every key a few times per poll.
        var seen = Set<FlowKey>(minimumCapacity: internalCache.entries.count)
        try kernel.dump { flow in
            guard let o = flow.original, filter.passes(flow) else { return }
            let key = FlowKey(o)
            seen.insert(key)
            let before = self.internalCache.entries[key]
            guard let k = self.internalCache.record(flow, kind: before == nil ? .new : .update, now: now) else { return }
            if send && (before == nil || Self.changed(before!.flow, flow)) { self.engine.enqueue(.flow(k), places: &self.internalCache) }
        }
        if send { for k in internalCache.markMissing(keeping: seen) { engine.enqueue(.flow(k), places: &internalCache) } }
    }

    static func changed(_ a: Flow, _ b: Flow) -> Bool {
        a.status != b.status || a.protocolInfo?.tcp?.state != b.protocolInfo?.tcp?.state || a.mark != b.mark
            || a.reply != b.reply || a.helper != b.helper
    }

    func bulkSend() {
        guard !bypassesInternalCache else { return bulkSendFromKernel() }
        // By position: iterating a copy of the table while places change would copy it.
        for p in 0 ..< internalCache.entries.count where internalCache.entries[valueAt: p].state != .dead {
            engine.enqueue(.flow(internalCache.entries.key(at: p)), at: .flow(p), places: &internalCache)
        }
        bulkSendExpectations()
    }

    // MARK: actions (the control socket's, and `tandem run`'s on a VRRP transition)

    /// Asks the peer for its whole table (`-n`); ALARM has no such request.
    public func requestResync(now: UInt64) {
        guard sync.mode != .alarm else { return }
        engine.requestResync()
        resync.requested(now: now)
    }

    /// This node's own kernel table is now the reference: no resync to wait for.
    public func settleResync(now: UInt64) { resync.settle(now: now) }

    /// `-f`: empties both caches.
    public func flushCaches() {
        purgeAt = nil
        internalCache.removeAll()
        externalCache.removeAll()
        flushExpectationCaches()
    }

    /// A new master's `-f -R` without the dump on its critical path: the internal cache is
    /// emptied before a `commit(adopt:)` refills it with exactly what went into the kernel,
    /// then the external cache is emptied; `reconcileWithKernel(after:)` later catches
    /// what the kernel held besides (sending only what differs).
    public func releaseInternalCache() {
        purgeAt = nil
        released.append((internalCache.takeAll(), FlowTable()))
    }

    public func releaseExternalCache() {
        released.append((FlowTable(), externalCache.takeAll()))
        flushExpectationCaches()
    }

    /// Schedules a kernel dump that sends what the internal cache lacks or has wrong.
    public func reconcileWithKernel(after seconds: UInt64, now: UInt64) {
        resyncAt = now + seconds * 1_000_000_000
    }
    var released: [(FlowTable<InternalCache.Entry>, FlowTable<ExternalCache.Entry>)] = []

    /// `-R`: reloads the internal cache from the kernel table.
    public func resyncWithKernel() throws {
        try populateFromKernel(send: false)
        try loadExpectationsFromKernel()
    }

    /// `-B`: sends the whole internal cache to the peer.
    public func sendBulk() { if sync.mode != .alarm { bulkSend() } }

    /// `-t`: flushes the kernel table after PurgeTimeout.
    /// A commit or a cache flush cancels it; a pending one is not moved.
    public func schedulePurge(now: UInt64) {
        guard purgeAt == nil else { return }
        purgeAt = now + UInt64(sync.purgeTimeout) * 1_000_000_000
        log("flushing conntrack table in \(sync.purgeTimeout) secs")
    }

    public var externalFlowCount: Int { externalCache.entries.count }

    /// DisableExternalCache (spec §5.3): what arrives goes straight into the kernel.
    func inject(_ queued: [(SyncMessageType, SyncedFlow)]) {
        if let error = committer.inject(queued) {
            log("cannot inject \(queued.count) replicated flows into the kernel: \(error)")
        }
    }

    /// Writes the external cache into the kernel: batched, updating entries that exist.
    /// `quiet` leaves the event groups during the write (the caller resyncs by dump after).
    /// Then, with ExpectationSync and `expectations`, the expectations (spec §5.5).
    @discardableResult
    /// `adopt`: each committed flow also enters the internal cache as it goes out, so a
    /// new master needs no kernel dump before its bulk send (a reconciling dump follows;
    /// see `adoptCommittedTable`).
    public func commit(quiet: Bool = false, expectations withExpectations: Bool = true, adopt: Bool = false) throws -> CommitReport {
        let now = Self.monotonicNow()
        purgeAt = nil
        log(withExpectations && expectations.enabled ? "committing all external caches" : "committing conntrack cache")
        let adopting: ((Flow) -> Void)? = adopt && !bypassesInternalCache ? { f in
            if self.filter.passes(f) { _ = self.internalCache.record(f, kind: .new, now: now) }
        } : nil
        let report = try committer.commit(externalCache.entries.values, adopt: adopting, quietly: quiet ? events : nil)
        // conntrackd's three lines, word for word (scripts grep them).
        log("Committed \(report.succeeded) new entries")
        if report.failed > 0 { log("\(report.failed) entries can't be committed") }
        let us = report.nanoseconds / 1_000
        log("commit has taken \(us / 1_000_000).\(String(repeating: "0", count: 6 - String(us % 1_000_000).count))\(us % 1_000_000) seconds")
        if withExpectations { commitExpectations(now: Self.monotonicNow()) }
        return report
    }
}
