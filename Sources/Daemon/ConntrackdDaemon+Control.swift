import CLinux
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

/// The control socket (spec §6): requests answered, statistics and listings assembled.
extension ConntrackdDaemon {
    func handleControl(now: Instant) {
        guard let control else { return }
        for result in control.poll(now: now) {
            switch result {
            case .failure(let e):
                runtime.localReadFailed += 1
                log("local request failed: \(e)")
            case .success(let (client, code)):
                defer { close(client) }
                let plan: ControlPlan
                do {
                    plan = try ControlPlan.planned(code: code, settings: controlSettings)
                } catch {
                    runtime.localUnknownRequest += 1
                    log("\(error)")
                    continue
                }
                do {
                    ControlServer.reply(client, try perform(plan, now: now))
                } catch {
                    // The request failed, not the daemon: the client hears nothing, as
                    // conntrackd's does, and the loop goes on.
                    let name = ControlRequest(rawValue: code).map { "\($0)" } ?? "\(code)"
                    recovered(.controlRequest, "local request \(name) failed: \(error)")
                    ControlServer.reply(client, "")
                }
            }
        }
    }

    /// The settings `ControlPlan` reads, from this daemon's configuration.
    var controlSettings: ControlPlan.Settings {
        ControlPlan.Settings(mode: sync.mode, expectations: state.expectations.enabled, bypassesInternalCache: bypassesInternalCache)
    }

    func answer(_ request: ControlRequest, now: Instant) throws -> String {
        try perform(ControlPlan.planned(request, settings: controlSettings), now: now)
    }

    /// Carries a plan out: its effects in order, then the reply. An effect that throws
    /// (the kernel refusing a flush) ends the request there, as conntrackd's would.
    func perform(_ plan: ControlPlan, now: Instant) throws -> String {
        for effect in plan.effects { try perform(effect, now: now) }
        return try render(plan.reply, now: now)
    }

    private func perform(_ effect: ControlEffect, now: Instant) throws {
        switch effect {
        case .cancelPurge: schedule.purgeAt = nil
        case .cancelPendingCommit: state.pendingCommit.cancel()
        case .emptyInternalCache: internalCache.removeAll()
        case .emptyExternalCache: state.externalCache.removeAll()
        case .emptyExpectationCaches: flushExpectationCaches()
        case .commit(let expectations): try commitFromControl(expectations: expectations)
        case .commitExpectations: _ = commitExpectations(now: now)
        case .stop: stopping = true
        case .sendBulk: sendBulk()
        case .requestResync: requestResync(now: now)
        case .schedulePurge: schedulePurge(now: now)
        case .countKernelFlush: runtime.kernelFlushes += 1
        case .countKernelResync: runtime.kernelResyncs += 1
        case .flushKernel: try kernel.flush()
        case .flushKernelExpectations: try kernel.flushExpectations()
        case .reloadFromKernel: try reloadFromKernel()
        case .reloadExpectationsFromKernel: try loadExpectationsFromKernel()
        case .log(let line): log(line)
        }
    }

    private func render(_ reply: ControlReply, now: Instant) throws -> String {
        switch reply {
        case .nothing: return ""
        case .flows(let cache, let xml): return listing(internal: cache == .internal, now: now, xml: xml)
        case .kernelFlows(let xml): return try kernelListing(xml: xml)
        case .expectations(let cache, let xml): return expectationListing(internal: cache == .internal, now: now, xml: xml)
        case .expectationStatistics: return expectationStatistics()
        case .nodeStatus: return statusReport(now: now) + (extraStatus?() ?? "")
        case .nodeStatusJSON: return try statusDocument(now: now).json()
        case .statistics(let section):
            let s = statistics()
            switch section {
            case .general: return s.general
            case .network: return s.network
            case .cache: return s.cache
            case .runtime: return s.runtimeReport
            case .link: return s.link
            case .resendQueue: return s.resendQueueReport
            case .queues: return s.queues
            }
        }
    }

    /// The replication side of `tandem status`.
    func statusReport(now: Instant) -> String {
        ControlPresenter.status(nodeStatus(now: now), now: now)
    }

    func nodeStatus(now: Instant) -> ControlPresenter.NodeStatus {
        let k = channel.counters
        var status = ControlPresenter.NodeStatus(
            mode: sync.mode.rawValue, startedAt: runtime.startedAt, peerAddress: link.peerAddress, peerSilent: link.liveness.silent,
            peerLastHeard: link.liveness.lastHeard, resync: state.resync.phase, pollSeconds: config.general.pollSeconds,
            readsEvents: events != nil, polls: runtime.polls, internalFlows: internalCache.activeCount,
            externalFlows: sync.disableExternalCache ? nil : state.externalCache.entries.count, linkKind: channel.kind.rawValue,
            linkInterface: channel.interface, linksConfigured: link.channels.channels.count,
            link: .init(sent: k.packetsSent, received: k.packetsReceived, sendErrors: k.sendErrors, droppedFull: k.droppedSendBufferFull, deferredFull: k.deferredSendBufferFull,
                        readWhileBusy: link.channels.stashCounters.inputs, readBudgetReached: link.channels.stashCounters.budgetReached),
            gaps: state.gapRepair.counters, resyncPending: state.gapRepair.hasOpenGaps, retransmitted: engine.retransmissions,
            lost: engine.tracker.lost, malformed: link.receiver.counters.malformed, foreign: link.foreignDatagrams,
            overruns: runtime.overruns, recovered: recovery.text,
            waitingForSpace: state.pendingCommit.count, committedLater: state.pendingCommit.committedLater,
            expiredWaiting: state.pendingCommit.expired, handover: state.handover.counters, peerHeard: link.liveness.everHeard,
            lag: engine.isFTFW ? lagView(now: now) : nil)
        status.refusals = syncRefusals
        return status
    }

    func lagView(now: Instant) -> ControlPresenter.LagView {
        let l = state.replicationLag
        return ControlPresenter.LagView(samples: l.overall?.samples ?? 0, last: l.last, lastAt: l.lastAt,
                                        recent: l.recent(now: now), probesUnanswered: engine.lagProbesAbandoned)
    }

    /// `tandem status --json`: the figures of the text status and of `-s`, gathered once.
    /// `listing`: with the resend queue's entries, which only `-s rsqueue` prints; the
    /// metrics leave them out (a full queue is a large copy for one number).
    func statusDocument(now: Instant, listing: Bool = true) -> StatusDocument {
        let stats = statistics(listing: listing)
        var document = StatusDocument(mode: .conntrackd, node: nodeStatus(now: now), statistics: stats,
                                      expectations: state.expectations.enabled ? expectationCaches() : nil,
                                      recovered: recovery.byKind, lastPromotion: lastPromotion,
                                      process: .current(uptimeSeconds: Int(stats.uptimeSeconds)), now: now)
        extraStatusDocument?(&document)
        return document
    }

    func statistics(listing: Bool = true) -> ConntrackdStatistics {
        let internalStats = ConntrackdStatistics.Cache(name: "internal", objects: internalCache.entries.count,
                                                       active: internalCache.activeCount, counters: internalCache.counters)
        let externalStats = ConntrackdStatistics.Cache(name: "external", objects: state.externalCache.entries.count,
                                                       active: state.externalCache.entries.count,
                                                       counters: sync.disableExternalCache ? committer.injectCounters : state.externalCache.counters)
        var s = ConntrackdStatistics(internalCache: internalStats, externalCache: externalStats)
        s.externalInject = sync.disableExternalCache
        if bypassesInternalCache {
            s.internalBypass = true
            s.internalCache.counters = state.internalBypass.counters
        }
        s.trafficBytes = runtime.trafficBytes
        s.trafficPackets = runtime.trafficPackets
        let current = sync.channels.first(where: { $0.isDefault }) ?? sync.channels.first
        for (index, c) in sync.channels.enumerated() {
            let name = c.interface ?? ""
            var block = ConntrackdStatistics.Channel(kind: c.kind == .udp ? "UDP" : (c.kind == .tcp ? "TCP" : "multicast"),
                                                     interface: name, status: InterfaceStatus.of(name), active: c.location == current?.location)
            (block.refusals, block.authenticationRefused) = refusals(onChannel: index)
            if block.active {
                let k = channel.counters
                block.bytesSent = k.bytesSent
                block.bytesReceived = k.bytesReceived
                block.packetsSent = k.packetsSent
                block.packetsReceived = k.packetsReceived
                block.sendErrors = k.sendErrors
                block.receiveErrors = k.receiveErrors
            }
            s.channels.append(block)
        }
        s.receive = link.receiver.counters
        s.modeMalformed = runtime.modeMalformed
        s.lost = engine.tracker.lost
        s.before = engine.tracker.before
        s.gapRepair = state.gapRepair.counters
        s.uptimeSeconds = UInt64(max(0, (Instant.now() - runtime.startedAt).wholeSeconds))
        s.runtime = runtime
        s.runtime.eventsReceived += reader?.received ?? 0
        s.runtime.eventsFiltered += reader?.filtered ?? 0
        s.runtime.ownCommitEchoes = reader?.ownEchoes ?? 0
        s.runtime.bufferSize = events?.socket.receiveBufferSize ?? 0
        s.runtime.eventRingBytes = reader?.ringBytes ?? 0
        s.runtime.eventRingSpills = reader?.ringSpills ?? 0
        s.retransmitted = engine.retransmissions
        s.foreignDatagrams = link.foreignDatagrams
        s.refusals = syncRefusals
        s.authentication = authenticationCounters
        s.errorQueueLimit = current?.errorQueueLength ?? 128
        if let ftfw = engine.ftfw {
            s.resendQueue = listing ? ftfw.resendQueueEntries : nil
            s.resendQueueCount = ftfw.resendQueueCount
            s.resendQueueLimit = ftfw.configuration.resendQueueSize
            s.resendQueueOverflows = ftfw.counters.resendQueueOverflows
            s.transmitQueue = ftfw.transmitQueueCount
        }
        return s
    }

    /// `-i` / `-e`: dead internal entries hidden; ALARM's external entries show their expiry.
    func listing(internal isInternal: Bool, now: Instant, xml: Bool = false) -> String {
        if isInternal {
            let flows = internalCache.entries.values.lazy.filter { $0.state != .dead }.map { ControlPresenter.ListedFlow(flow: $0.flow, since: $0.since) }
            return ControlPresenter.listing(flows, internal: true, xml: xml, now: now)
        }
        let lifetime = Duration.seconds(sync.cacheTimeout)
        let cache = state.externalCache
        let flows = cache.entries.values.lazy.compactMap { e in
            e.synced.flow.map { ControlPresenter.ListedFlow(flow: $0, since: e.since, expires: self.sync.mode == .alarm ? cache.updated(of: e) + lifetime : nil) }
        }
        return ControlPresenter.listing(flows, internal: false, xml: xml, now: now)
    }

}
