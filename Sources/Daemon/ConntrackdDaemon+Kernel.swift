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

/// The kernel's side of the loop: its events recorded, its table read, replicated flows written back.
extension ConntrackdDaemon {
    /// How far ahead of recording a compact event its cache slot is prefetched.
    static let prefetchDistance = 16

    /// Records a turn's kernel events in the internal cache and queues them for the peer.
    /// A compact event's cache slot is prefetched a few events before it is recorded, so
    /// the cache misses, which were the largest single cost of recording an event, overlap
    /// with the work on the events before it.
    func handleKernelEvents(_ reader: KernelEventReader, now: Instant) {
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
        // The turn's last queued flow is followed for the replication lag, now and then.
        let sampling = engine.wantsLagSample(now: now)
        var lastQueued: SyncObjectKey?
        defer { if let k = lastQueued { engine.followForLag(k, now: now) } }
        for i in events.indices {
            prefetch(i + Self.prefetchDistance)
            switch events[i] {
            case .compact(let kind, let key, let p):
                if let k = internalCache.record(packed: p, key: key, kind: kind, now: now) {
                    engine.enqueue(.flow(k), places: &internalCache)
                    if sampling { lastQueued = .flow(k) }
                }
            case .flow(let kind, let flow):
                if kind == .destroy {
                    for c in [flow.countersOriginal, flow.countersReply].compactMap({ $0 }) {
                        runtime.trafficBytes += c.bytes
                        runtime.trafficPackets += c.packets
                    }
                }
                if bypassesInternalCache { bypass(flow, kind: kind); continue }
                if let key = internalCache.record(flow, kind: kind, now: now) {
                    engine.enqueue(.flow(key), places: &internalCache)
                    if sampling { lastQueued = .flow(key) }
                }
            case .overrun:
                runtime.overruns += 1
                if schedule.nextPoll != nil {
                    if !schedule.pollPending { log("netlink event socket overrun: the table is re-read at the next poll") }
                    schedule.pollPending = true
                } else if let delay = config.general.netlinkOverrunResync, schedule.resyncAt == nil {
                    schedule.resyncAt = now + .seconds(delay)
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


    /// Dumps the kernel table into the internal cache. With `send`, changed entries are
    /// sent and vanished ones destroyed (resync after overrun, and PollSecs polling —
    /// where, unlike conntrackd, unchanged entries are not sent again every poll).
    func populateFromKernel(send: Bool) throws {
        if recovery.injectedDumpFailures > 0 {
            recovery.injectedDumpFailures -= 1
            throw InjectedFault.kernelDump
        }
        guard !bypassesInternalCache else {
            if send { log("resync is unsupported in this mode") }
            return
        }
        let now = Instant.now()
        guard send else {
            // `-R` and start-up: nothing to compare or send, so one cache write per flow.
            try dumpStashing(during: "the kernel table's read") { tick in
                try kernel.dumpCompact { dumped in
                    tick()
                    self.recordAsKernelHolds(dumped, now: now)
                }
            }
            return
        }
        do {
            try dumpStashing(during: "the kernel table's re-read") { tick in
                try kernel.dumpCompact { dumped in
                    tick()
                    let key: FlowKey, before: CompactFlow?, recorded: FlowKey?
                    switch dumped {
                    case .packed(let p):
                        guard policy.filter.passes(p) else { return }
                        key = FlowKey(packed: p.original)
                        before = self.internalCache.entries[key]?.stored
                        recorded = self.internalCache.record(packed: p, key: key, kind: before == nil ? .new : .update, now: now,
                                                             seenBySweep: true)
                    case .general(let flow):
                        guard let o = flow.original, policy.filter.passes(flow) else { return }
                        key = FlowKey(o)
                        before = self.internalCache.entries[key]?.stored
                        recorded = self.internalCache.record(flow, kind: before == nil ? .new : .update, now: now, seenBySweep: true)
                    }
                    guard let k = recorded else { return }
                    if before == nil || Self.changed(before!, dumped) { self.engine.enqueue(.flow(k), places: &self.internalCache) }
                }
            }
        } catch {
            internalCache.abandonSweep()
            throw error
        }
        for k in internalCache.markMissing() { engine.enqueue(.flow(k), places: &internalCache) }
    }

    /// A flow as the kernel holds it (dumped, or just committed), into the internal cache
    /// unless the filter leaves it out; nothing is sent.
    func recordAsKernelHolds(_ held: CompactFlow, now: Instant) {
        switch held {
        case .packed(let p):
            guard policy.filter.passes(p) else { return }
            _ = internalCache.record(packed: p, key: FlowKey(packed: p.original), kind: .new, now: now)
        case .general(let f):
            guard policy.filter.passes(f) else { return }
            _ = internalCache.record(f, kind: .new, now: now)
        }
    }

    static func changed(_ a: Flow, _ b: Flow) -> Bool {
        a.status != b.status || a.protocolInfo?.tcp?.state != b.protocolInfo?.tcp?.state || a.mark != b.mark
            || a.reply != b.reply || a.helper != b.helper
    }

    /// `changed` on the cache's forms: two packed flows are compared as they are (neither
    /// has a helper), anything else as whole flows.
    static func changed(_ a: CompactFlow, _ b: CompactFlow) -> Bool {
        guard case .packed(let x) = a, case .packed(let y) = b else { return changed(a.flow, b.flow) }
        typealias Bit = CompactFlow.Packed.Bit
        func status(_ p: CompactFlow.Packed) -> UInt32? { p.has(Bit.status) ? p.status : nil }
        func mark(_ p: CompactFlow.Packed) -> UInt32? { p.has(Bit.mark) ? p.mark : nil }
        func tcpState(_ p: CompactFlow.Packed) -> TCPState? {
            p.has(Bit.tcp) && p.has(Bit.tcpState) ? TCPState(rawValue: p.tcpState) : nil
        }
        return status(x) != status(y) || tcpState(x) != tcpState(y) || mark(x) != mark(y) || x.reply != y.reply
    }

    /// DisableExternalCache (spec §5.3): what arrives goes straight into the kernel.
    /// A turn's messages from the old master during a promotion's handover.
    func handOver(_ queued: [(SyncMessageType, SyncedFlow)]) {
        do {
            try committer.handOver(queued, into: &state.handover)
        } catch {
            recovered(.kernelCommit, "handover: writing \(queued.count) of the old master's flows into the kernel failed: \(error)")
        }
    }

    func inject(_ queued: [(SyncMessageType, SyncedFlow)]) {
        if let error = committer.inject(queued) {
            log("cannot inject \(queued.count) replicated flows into the kernel: \(error)")
        }
    }

    /// Writes the external cache into the kernel: batched, updating entries that exist.
    /// `quiet` leaves the NEW and UPDATE event groups during the write (the caller resyncs
    /// by dump after; see `ConntrackEventListener.withoutEvents`).
    /// Then, with ExpectationSync and `expectations`, the expectations (spec §5.5).
    @discardableResult
    /// `adopt`: each committed flow also enters the internal cache as it goes out, so a
    /// new master needs no kernel dump before its bulk send (a reconciling dump follows;
    /// see `adoptCommittedTable`).
    public func commit(quiet: Bool = false, expectations withExpectations: Bool = true, adopt: Bool = false) throws -> CommitReport {
        let now = Instant.now()
        schedule.purgeAt = nil
        log(withExpectations && state.expectations.enabled ? "committing all external caches" : "committing conntrack cache")
        // As the kernel will list it (confirmed, as it is given), so the reconciling dump
        // finds it unchanged and does not send it back to the peer.
        let adopting: ((CompactFlow) -> Void)? = adopt && !bypassesInternalCache ? { self.recordAsKernelHolds($0, now: now) } : nil
        let report: CommitReport
        let incomplete = state.resync.isWaiting
        let stashedBefore = link.channels.stashCounters
        defer { logStashed(since: stashedBefore, during: "the commit") }
        do {
            defer { restoreEventGroups(now: Instant.now()) }
            report = try committer.commit(state.externalCache.entries.values, adopt: adopting, quietly: quiet ? events : nil,
                                          hold: quiet ? commitTuning.holdQuietWindow : .zero, meanwhile: whileBusy)
        } catch {
            lastPromotion = PromotionRecord(startedAt: now, error: "\(error)", peerTableIncomplete: incomplete)
            promotionTally.recordFailure()
            throw error
        }
        lastPromotion = PromotionRecord(startedAt: now, report: report, peerTableIncomplete: incomplete)
        promotionTally.record(report)
        // conntrackd's three lines, word for word (scripts grep them).
        log("Committed \(report.succeeded) new entries")
        if report.failed > 0 { log("\(report.failed) entries can't be committed") }
        let us = max(0, report.duration.microsecondCount)
        log("commit has taken \(us / 1_000_000).\(String(repeating: "0", count: 6 - String(us % 1_000_000).count))\(us % 1_000_000) seconds")
        if !report.failuresByErrno.isEmpty { log("commit failures by cause: \(report.failureCauses)") }
        if report.replaced > 0 {
            log("\(report.replaced) committed flows replaced local entries that could not take their NAT, helper or master")
        }
        if commitTuning.logsTiming { log(CommitTuning.timingLine(report, quiet: quiet)) }
        for e in report.socketErrors { recovered(.kernelCommit, "commit: the netlink socket failed on a batch of \(e); written again") }
        state.pendingCommit.refused(report.refusedForSpace + report.unconfirmed, now: Instant.now())
        if !report.refusedForSpace.isEmpty {
            log("\(report.refusedForSpace.count) flows did not fit (the conntrack table is full: nf_conntrack_max): "
                + "they are written as space frees, each for at most its timeout")
        }
        if !report.unconfirmed.isEmpty {
            log("\(report.unconfirmed.count) flows unconfirmed after netlink socket errors: they are written again, each for at most its timeout")
        }
        if withExpectations { commitExpectations(now: Instant.now()) }
        return report
    }

    /// The flows a full table refused (`PendingCommit`): those past their timeout are
    /// dropped and said so, the rest written again.
    func servicePendingCommit(now: Instant) {
        let expiredBefore = state.pendingCommit.expired
        let flows = state.pendingCommit.due(now: now)
        let expired = state.pendingCommit.expired - expiredBefore
        if expired > 0 { log("\(expired) flows that did not fit expired before the table had space for them") }
        if let flows { retryPendingCommit(flows, now: now) }
    }

    /// Those now in the kernel enter the internal cache and go to the peer, as a commit's
    /// adopted flows do.
    func retryPendingCommit(_ flows: [Flow], now: Instant) {
        let refused: [Int: Int32]
        let stashedBefore = link.channels.stashCounters
        defer { logStashed(since: stashedBefore, during: "the write of flows that did not fit") }
        do {
            refused = try committer.retry(flows, meanwhile: whileBusy)
        } catch {
            state.pendingCommit.attempted(stillRefused: Set(flows.indices), now: now)
            recovered(.kernelCommit, "writing the \(flows.count) flows that did not fit failed: \(error); trying again")
            return
        }
        let full = Set(refused.filter { $0.value == ENOMEM }.keys)
        let dropped = refused.count - full.count
        for (i, f) in flows.enumerated() where refused[i] == nil && !bypassesInternalCache && policy.filter.passes(f) {
            if let key = internalCache.record(f, kind: .new, now: now) { engine.enqueue(.flow(key), places: &internalCache) }
        }
        state.pendingCommit.attempted(stillRefused: full, dropped: dropped, now: now)
        let written = flows.count - refused.count
        if written > 0 || dropped > 0 {
            var line = "\(written) of the \(flows.count) flows that did not fit are now in the kernel"
            if dropped > 0 { line += ", \(dropped) refused for other reasons (dropped)" }
            line += full.isEmpty ? "; none left waiting" : "; \(full.count) still wait for space"
            log(line)
        }
    }
}
