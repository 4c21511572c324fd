import Conntrack
import StateSync
import Timekeeping

/// The text the control socket answers `-i`/`-e` (plain and XML) and `tandem status` with:
/// pure functions of what they show, so the daemon only gathers the figures.
enum ControlPresenter {
    /// One listed flow: when it entered the cache, and (ALARM's external cache) when it expires.
    struct ListedFlow {
        var flow: Flow
        var since: Instant
        var expires: Instant?
    }

    /// `-i` / `-e`, plain (spec §6.4) or XML (§6.5): no timeout, use count or byte
    /// counters; ids only in the internal cache's XML; external entries have no reply tuple.
    static func listing(_ flows: some Sequence<ListedFlow>, internal isInternal: Bool, xml: Bool, now: Instant) -> String {
        var out: [UInt8] = []
        let printer = FlowPrinter()
        let xmlPrinter = FlowXMLPrinter()
        for entry in flows {
            var f = entry.flow
            f.timeout = nil
            f.use = nil
            if !isInternal || !xml { f.id = nil }
            if !isInternal { f.reply = nil }
            f.countersOriginal = nil
            f.countersReply = nil
            if xml {
                xmlPrinter.append(f, emptyReply: !isInternal, to: &out)
                out.append(10)
                continue
            }
            printer.append(f, to: &out)
            if let expires = entry.expires { out.append(contentsOf: " [expires in \(now.remaining(until: expires).wholeSeconds)s]".utf8) }
            out.append(contentsOf: " [active since \((now - entry.since).wholeSeconds)s]\n".utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The replication side of `tandem status`: what an operator asks first.
    struct NodeStatus {
        var mode: String
        var startedAt: Instant
        var peerAddress: String
        var peerSilent: Bool
        var peerLastHeard: Instant
        var resync: ResyncProgress.Phase
        /// PollSecs, when set, and whether kernel events are read besides.
        var pollSeconds: Int?
        var readsEvents: Bool
        var polls: Int
        var internalFlows: Int
        /// nil with DisableExternalCache (flows go straight into the kernel).
        var externalFlows: Int?
        var linkKind: String
        var linkInterface: String?
        var linksConfigured: Int
        var link: ChannelCountersView
        var gaps: GapRepair.Counters
        var resyncPending: Bool
        var retransmitted: Int
        var lost: Int
        var malformed: Int
        var foreign: Int
        var overruns: Int
        /// Errors the loop survived, as "2 event socket, 1 control request" or "none".
        var recovered: String = "none"
        /// Committed flows a full table refused: still waiting, written later, expired waiting.
        var waitingForSpace = 0, committedLater = 0, expiredWaiting = 0
        /// The old master's messages written into the kernel right after promotions.
        var handover = PromotionHandover.Counters()
        /// Whether the peer was heard at all (`peerLastHeard` is the start until then).
        var peerHeard = true
        /// FTFW: replication lag; nil in the other modes.
        var lag: LagView?
        /// The hardened sync link's refusals (docs/sync-hardening.md).
        var refusals = SyncRefusals()
    }

    /// The replication lag as the status shows it.
    struct LagView {
        var samples: UInt64
        var last: Duration?
        var lastAt: Instant?
        var recent: ReplicationLag.Summary?
        var probesUnanswered: Int
    }

    /// The link's counters as the status shows them.
    struct ChannelCountersView {
        var sent: Int
        var received: Int
        var sendErrors: Int
        /// Of those, dropped with the send buffer full.
        var droppedFull = 0
        /// Datagrams that waited for room in the send buffer (and were not dropped for it).
        var deferredFull = 0
        /// Datagrams (TCP: reads) taken into memory while a commit or a dump held the loop,
        /// and the times the stash's budget stopped that (`ChannelSet.stash()`).
        var readWhileBusy = 0
        var readBudgetReached = 0
    }

    static func status(_ s: NodeStatus, now: Instant) -> String {
        func seconds(_ d: Duration) -> String { "\(d.wholeSeconds)s" }
        var lines = ["sync: mode \(s.mode), up \(seconds(now - s.startedAt)), peer \(s.peerAddress)"]
        lines.append("  peer: " + (s.peerSilent ? "SILENT for \(seconds(now - s.peerLastHeard))" : "heard \(seconds(now - s.peerLastHeard)) ago"))
        let resyncText: String = switch s.resync {
        case .notRequested: "not requested"
        case .waiting(let since, let acknowledged, _): "WAITING for the peer's table for \(seconds(now - since))"
            + (acknowledged ? " (request acknowledged)" : "")
        case .complete(let at): "complete \(seconds(now - at)) ago"
        }
        lines.append("  resync: " + resyncText)
        if let secs = s.pollSeconds {
            lines.append("  kernel: PollSecs \(secs), " + (s.readsEvents ? "events replicated at once, \(s.polls) re-reads after overruns" : "no event socket, \(s.polls) polls"))
        }
        lines.append("  caches: internal \(s.internalFlows) flows, external " + (s.externalFlows.map { "\($0) flows" } ?? "injected into the kernel"))
        lines.append("  link: \(s.linkKind) on \(s.linkInterface ?? "?") (\(s.linksConfigured) configured), "
                     + "\(s.link.sent) sent / \(s.link.received) received, \(s.link.sendErrors) send errors"
                     + (s.link.droppedFull > 0 ? " (\(s.link.droppedFull) dropped with the send buffer full)" : "")
                     + (s.link.deferredFull > 0 ? ", \(s.link.deferredFull) waited for room in the send buffer" : "")
                     + (s.link.readWhileBusy > 0 ? ", \(s.link.readWhileBusy) read while a commit or dump held the loop" : "")
                     + (s.link.readBudgetReached > 0 ? " (its budget reached \(s.link.readBudgetReached) times)" : ""))
        let g = s.gaps
        lines.append("  gaps: \(g.gaps) (\(g.messagesLost) messages), \(g.jumps) sequence jumps, \(g.renacksSent) NACKed again, "
                     + "\(g.resyncRequests) resync requests covering \(g.messagesCoveredByResync) messages, "
                     + "\(g.staleFlowsRemoved) stale flows removed"
                     + (s.resyncPending ? ", a resync pending" : ""))
        lines.append("  reliability: \(s.retransmitted) retransmitted, \(s.lost) lost, "
                     + "\(s.malformed) malformed, \(s.foreign) not from the peer, \(s.overruns) netlink overruns")
        if let l = s.lag { lines.append("  replication lag: " + lagText(l, now: now)) }
        // Only when something was refused: the reasons are in docs/sync-hardening.md.
        if s.refusals.total > 0 {
            lines.append("  refused: " + s.refusals.byReason.filter { $0.count > 0 }.map { "\($0.count) \($0.reason)" }.joined(separator: ", "))
        }
        if s.handover.windows > 0 {
            let h = s.handover
            lines.append("  promotion handover: \(h.windows) windows; the old master's flows \(h.created) created (\(h.alreadyPresent) present), "
                         + "\(h.destroyed) ended (\(h.alreadyGone) already gone), \(h.failed) failed")
        }
        if s.waitingForSpace + s.committedLater + s.expiredWaiting > 0 {
            lines.append("  table full at commit: \(s.waitingForSpace) flows wait for space (nf_conntrack_max), "
                         + "\(s.committedLater) written later, \(s.expiredWaiting) expired waiting")
        }
        lines.append("  errors recovered: \(s.recovered)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// "the peer is 3.2 ms behind, p99 9.1 ms": the last sample, then the last two minutes.
    static func lagText(_ l: LagView, now: Instant) -> String {
        let unanswered = l.probesUnanswered > 0 ? "; \(l.probesUnanswered) samples never acknowledged" : ""
        guard let r = l.recent, let last = l.last, let at = l.lastAt else {
            return "no sample in the last 2 minutes (\(l.samples) in all)" + unanswered
        }
        return "the peer is \(milliseconds(last)) behind (\((now - at).wholeSeconds)s ago), "
            + "p50 \(milliseconds(r.median)), p99 \(milliseconds(r.p99)), max \(milliseconds(r.max)) "
            + "over \(r.samples) samples in the last 2 minutes" + unanswered
    }

    /// Milliseconds to a tenth under 10 ms, whole above.
    static func milliseconds(_ d: Duration) -> String {
        let ms = d.secondsValue * 1e3
        return ms < 10 ? "\((ms * 10).rounded() / 10) ms" : "\(Int(ms.rounded())) ms"
    }
}
