import StateSync
import Timekeeping

/// The replication side of the document, from the very figures the text status
/// (`NodeStatus`) and `conntrackd -s` (`ConntrackdStatistics`) show: one gathering, so the
/// JSON cannot disagree with the text an operator compares it with.
extension StatusDocument {
    init(mode: Mode, node s: ControlPresenter.NodeStatus, statistics st: ConntrackdStatistics,
         expectations: (internal: ConntrackdStatistics.Cache, external: ConntrackdStatistics.Cache)?,
         recovered: [String: Int], lastPromotion: PromotionRecord?, process: ProcessFootprint, now: Instant) {
        let ms = PromotionRecord.milliseconds
        let resync: Resync = switch s.resync {
        case .notRequested: Resync(phase: .notRequested, sinceMs: nil, acknowledged: nil, gapResyncPending: s.resyncPending)
        case .waiting(let since, let acknowledged, _):
            Resync(phase: .waiting, sinceMs: ms(now - since), acknowledged: acknowledged, gapResyncPending: s.resyncPending)
        case .complete(let at): Resync(phase: .complete, sinceMs: ms(now - at), acknowledged: nil, gapResyncPending: s.resyncPending)
        }
        let g = st.gapRepair
        let r = st.runtime
        self.init(
            mode: mode, process: process,
            sync: Sync(
                mode: s.mode,
                peer: Peer(address: s.peerAddress, silent: s.peerSilent, lastHeardMs: s.peerHeard ? ms(now - s.peerLastHeard) : nil),
                resync: resync,
                link: Link(kind: s.linkKind, interface: s.linkInterface, channelsConfigured: s.linksConfigured,
                           packetsSent: s.link.sent, packetsReceived: s.link.received, sendErrors: s.link.sendErrors,
                           droppedSendBufferFull: s.link.droppedFull, deferredSendBufferFull: s.link.deferredFull,
                           readWhileBusy: s.link.readWhileBusy, readBudgetReached: s.link.readBudgetReached),
                channels: st.channels.map(Self.channel),
                queues: Queues(transmit: st.transmitQueue, resend: st.resendQueueLength,
                               resendLimit: st.resendQueueLength == nil ? nil : st.resendQueueLimit,
                               resendOverflows: st.resendQueueLength == nil ? nil : st.resendQueueOverflows,
                               errorQueueLimit: st.errorQueueLimit),
                messages: Messages(retransmitted: st.retransmitted, lost: st.lost, before: st.before,
                                   malformed: st.malformed, notFromPeer: st.foreignDatagrams),
                receive: Receive(truncated: st.receive.truncated, badSize: st.receive.badSize, wrongVersion: st.receive.wrongVersion,
                                 malformedHeader: st.receive.malformedHeader, malformedPayload: st.receive.malformedPayload,
                                 badType: st.receive.badType, modeMalformed: st.modeMalformed),
                gapRepair: g, replicationLag: s.lag.map { Self.lag($0, now: now) }, refusals: st.refusals,
                authentication: st.authentication.map(Authentication.init)),
            kernel: Kernel(pollSeconds: s.pollSeconds, readsEvents: s.readsEvents, polls: s.polls, eventsReceived: r.eventsReceived,
                           eventsFiltered: r.eventsFiltered, eventsUnknown: r.eventsUnknown, catchEventFailed: r.catchEventFailed,
                           dumpUnknown: r.dumpUnknown, overruns: r.overruns, flushes: r.kernelFlushes, resyncs: r.kernelResyncs,
                           receiveBufferBytes: r.bufferSize, eventRingBytes: r.eventRingBytes, eventRingSpills: r.eventRingSpills,
                           trafficBytes: st.trafficBytes, trafficPackets: st.trafficPackets),
            control: Control(localReadFailed: r.localReadFailed, localUnknownRequest: r.localUnknownRequest),
            caches: Caches(
                internal: Self.cache(st.internalCache, flows: s.internalFlows),
                external: Self.cache(st.externalCache, flows: s.externalFlows),
                internalBypass: st.internalBypass, externalInject: st.externalInject,
                expectations: expectations.map { e in
                    ExpectationCaches(internal: Self.cache(e.internal, flows: e.internal.active),
                                      external: Self.cache(e.external, flows: st.externalInject ? nil : e.external.active))
                }),
            lastPromotion: lastPromotion?.document(now: now),
            pendingCommit: PendingCommitView(waiting: s.waitingForSpace, committedLater: s.committedLater, expiredWaiting: s.expiredWaiting),
            handover: s.handover,
            errorsRecovered: recovered, vrrp: nil)
    }

    static func lag(_ l: ControlPresenter.LagView, now: Instant) -> Lag {
        func ms(_ d: Duration) -> Double { (d.secondsValue * 1e6).rounded() / 1e3 }
        return Lag(samples: l.samples, lastMs: l.last.map(ms), lastAgeMs: l.lastAt.map { PromotionRecord.milliseconds(now - $0) },
                   recent: l.recent.map { Lag.Figures(samples: $0.samples, medianMs: ms($0.median), p99Ms: ms($0.p99), maxMs: ms($0.max)) },
                   probesUnanswered: l.probesUnanswered)
    }

    static func cache(_ c: ConntrackdStatistics.Cache, flows: Int?) -> Cache {
        let k = c.counters
        return Cache(flows: flows, objects: c.objects,
                     counters: Counters(created: k.created, createFailed: k.createFailed, updated: k.updated,
                                        updateFailed: k.updateFailed, destroyed: k.destroyed, destroyFailed: k.destroyFailed))
    }

    /// `-s link` spells the kinds as conntrackd prints them ("multicast"); the document
    /// uses the config file's keywords throughout, as `link.kind` does.
    static func channel(_ c: ConntrackdStatistics.Channel) -> Channel {
        let kind = c.kind == "multicast" ? "Multicast" : c.kind
        return Channel(kind: kind, interface: c.interface, status: c.status, active: c.active,
                       bytesSent: c.bytesSent, bytesReceived: c.bytesReceived, packetsSent: c.packetsSent,
                       packetsReceived: c.packetsReceived, sendErrors: c.sendErrors, receiveErrors: c.receiveErrors,
                       refusals: c.refusals, authenticationRefused: c.authenticationRefused.map { Authentication($0).refused })
    }
}
