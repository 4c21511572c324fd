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
                guard let request = ControlRequest(rawValue: code) else {
                    runtime.localUnknownRequest += 1
                    log("unknown local request \(code)")
                    continue
                }
                do {
                    ControlServer.reply(client, try answer(request, now: now))
                } catch {
                    // The request failed, not the daemon: the client hears nothing, as
                    // conntrackd's does, and the loop goes on.
                    recovered(.controlRequest, "local request \(request) failed: \(error)")
                    ControlServer.reply(client, "")
                }
            }
        }
    }

    func answer(_ request: ControlRequest, now: Instant) throws -> String {
        if let text = try answerExpectation(request, now: now) { return text }
        if let text = try answerBypassed(request) { return text }
        switch request {
        case .dumpInternal: return listing(internal: true, now: now)
        case .dumpExternal: return listing(internal: false, now: now)
        case .dumpInternalXML: return listing(internal: true, now: now, xml: true)
        case .dumpExternalXML: return listing(internal: false, now: now, xml: true)
        case .commit: try commitFromControl(expectations: false); return ""
        case .commitAll: try commitFromControl(expectations: true); return ""
        case .flushCaches: schedule.purgeAt = nil; state.pendingCommit.cancel(); internalCache.removeAll(); state.externalCache.removeAll(); return ""
        case .flushAllCaches: flushCaches(); return ""
        case .flushInternalCache: schedule.purgeAt = nil; internalCache.removeAll(); return ""
        case .flushExternalCache: state.externalCache.removeAll(); return ""
        case .kill: stopping = true; return ""
        case .statistics: return statistics().general
        case .networkStatistics: return statistics().network
        case .cacheStatistics: return statistics().cache
        case .runtimeStatistics: return statistics().runtimeReport
        case .linkStatistics: return statistics().link
        case .resendQueueStatistics: return statistics().resendQueueReport
        case .queueStatistics: return statistics().queues
        // No child processes: dumps and flushes run in the loop.
        case .processStatistics: return ""
        // ALARM has neither bulk sends nor resync requests.
        case .sendBulk: sendBulk(); return ""
        case .requestResync: requestResync(now: now); return ""
        case .flushKernel, .flushAllKernel:
            runtime.kernelFlushes += 1
            log("flushing kernel conntrack table")
            try kernel.flush()
            if request == .flushAllKernel && state.expectations.enabled { try kernel.flushExpectations() }
            return ""
        case .resyncKernel, .resyncAllKernel:
            runtime.kernelResyncs += 1
            log("resync with master conntrack table")
            try populateFromKernel(send: false)
            if request == .resyncAllKernel { try loadExpectationsFromKernel() }
            return ""
        case .resetTimers: schedulePurge(now: now); return ""
        case .nodeStatus: return statusReport(now: now) + (extraStatus?() ?? "")
        case .nodeStatusJSON: return try statusDocument(now: now).json()
        // The expectation requests were answered above.
        case .debugInfo, .expectationStatistics, .flushKernelExpectations, .resyncKernelExpectations, .dumpInternalExpectations,
             .dumpExternalExpectations, .commitExpectations, .dumpInternalExpectationsXML, .dumpExternalExpectationsXML:
            return ""
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
            link: .init(sent: k.packetsSent, received: k.packetsReceived, sendErrors: k.sendErrors, droppedFull: k.droppedSendBufferFull, deferredFull: k.deferredSendBufferFull),
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
        let flows = state.externalCache.entries.values.lazy.compactMap { e in
            e.synced.flow.map { ControlPresenter.ListedFlow(flow: $0, since: e.since, expires: self.sync.mode == .alarm ? e.updated + lifetime : nil) }
        }
        return ControlPresenter.listing(flows, internal: false, xml: xml, now: now)
    }

}
