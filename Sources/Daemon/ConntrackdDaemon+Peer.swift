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

/// The peer's side of the loop: its messages applied, its gaps repaired, its table's arrival noticed.
extension ConntrackdDaemon {
    /// The peer's messages: each judged by the sync mode as it is decoded (a turn's
    /// datagrams never exist as an array of decoded messages, and a data message is applied
    /// without being copied into an engine event), then applied to the external cache.
    func handleChannel(now: Instant) {
        var injections: [(SyncMessageType, SyncedFlow)] = []
        defer { if !injections.isEmpty { inject(injections) } }
        let handingOver = state.handover.isOpen(now: now) || state.handover.drainingStash
        defer { if !link.channels.hasStash { state.handover.drainingStash = false } }
        var handovers: [(SyncMessageType, SyncedFlow)] = []
        defer { if !handovers.isEmpty { handOver(handovers) } }
        var events: [SyncEngineEvent] = []
        engine.receiving(at: now)
        channelRefusals.start(messageRefusals)
        defer {
            channelRefusals.settle(messageRefusals)
            if let line = hardening.newRefusals(syncRefusals) { log(line) }
            if let w = engine.sendWindow, let line = sendWindowLog.line(w, now: now) { log(line) }
        }
        /// A message the mode will judge arrived on link `index`: answer on that link.
        func judging(on index: Int) {
            link.heard(now: now)
            link.follow(index)
            events.removeAll(keepingCapacity: true)
        }
        func handleEvents() {
            for e in events {
                switch e {
                case .apply: break
                case .resyncRequested:
                    answerResyncRequest(now: now)
                case .peerAcknowledged(let range):
                    if let lag = engine.lagAcknowledged(range, now: now) { state.replicationLag.record(lag, now: now) }
                    if state.resync.isWaiting || state.resyncSweep != nil, let s = engine.lastResyncSequence, range.contains(s) {
                        if state.resync.isWaiting { state.resync.requestAcknowledged() }
                        state.resyncSweep?.progress.requestAcknowledged()
                    } else {
                        peerTick(now: now)
                    }
                case .peerAlive:
                    peerTick(now: now)
                case .malformed:
                    runtime.modeMalformed += 1
                case .peerHello:
                    link.lastHello = now
                case .sequenceGap(let range):
                    state.gapRepair.gap(range, now: now)
                }
            }
        }
        // A resync request of ours is being answered: a jump forward is our loss of it.
        let answerAwaited = hardening.awaitsResyncAnswer(now: now)
        // FTFW with an external cache: flow messages that fit the cache's compact form
        // are decoded straight into it, and never exist as a `SyncedFlow`.
        let fastFlow: ((Int, SyncHeader, SyncMessageType, UnsafeRawBufferPointer) -> Bool)? =
            !engine.isFTFW || sync.disableExternalCache || handingOver ? nil : { index, header, type, payload in
                guard let p = CompactSyncedFlow.Packed(payload: payload) else { return false }
                self.channelRefusals.handling(index, totals: self.messageRefusals)
                // Refused by the jump guard: taken, and dropped.
                guard self.hardening.admits(flags: header.flags, sequence: header.sequence, answerAwaited: answerAwaited,
                                            expected: self.engine.expectedSequence, now: now, resume: self.resumePeerLine) else { return true }
                self.messageTally.count(.received, SyncMessageKind.of(type, header.flags), link: index)
                judging(on: index)
                if self.engine.receiveData(flags: header.flags, sequence: header.sequence, places: &self.internalCache, events: &events) {
                    self.state.externalCache.apply(type, packed: p, now: now)
                }
                handleEvents()
                self.answerHeldResyncRequest(now: now)
                return true
            }
        link.receive(fastFlow: fastFlow) { index, received in
            channelRefusals.handling(index, totals: messageRefusals)
            // Refused by the jump guard: dropped before it counts as the peer heard.
            if case .message(let m) = received,
               !hardening.admits(flags: m.flags, sequence: m.sequence, asksResync: SyncMessageKind.of(m.type, m.flags) == .resyncRequest,
                                 answerAwaited: answerAwaited, expected: engine.expectedSequence, now: now, resume: resumePeerLine) { return }
            link.heard(now: now)
            guard case .message(let m) = received else { return }
            messageTally.count(.received, SyncMessageKind.of(m.type, m.flags), link: index)
            judging(on: index)
            if engine.receive(m, places: &internalCache, events: &events) {
                switch m.body {
                case .expectation(let x): applyReceived(m.type, x, now: now)
                case .flow(let f):
                    if sync.disableExternalCache {
                        injections.append((m.type, f))
                    } else {
                        state.externalCache.apply(m.type, f, now: now)
                        if handingOver && PromotionHandover.handsOver(m.type) { handovers.append((m.type, f)) }
                    }
                case .control: break
                }
            }
            handleEvents()
            // After the mode took the message that adopted the line: its ACK then starts
            // on the new line.
            answerHeldResyncRequest(now: now)
        }
    }

    /// The peer asked for our whole table. `heldAt`: the request's sequence number when the
    /// jump guard held it while the peer's new line was confirmed; the mode never saw it, so
    /// it is acknowledged here (the peer counts its request as taken only then).
    func answerResyncRequest(now: Instant, heldAt held: UInt32? = nil) {
        // One bulk send a second at most: anyone who reaches the link can ask.
        guard hardening.permitsBulkSend(now: now) else { return }
        if let held {
            log("resync requested by other node (its request, \(held), was held while its new sequence line was confirmed)")
        } else {
            log("resync requested by other node")
        }
        engine.answerResync(heldRequest: held)
        bulkSend(endingTable: true, heldRequest: held)
    }

    /// The resync request a restarted peer sent while its new line was being confirmed,
    /// if the message just admitted adopted that line.
    func answerHeldResyncRequest(now: Instant) {
        // Refused by the bulk-send limit, the request is not acknowledged either: the peer
        // repeats it (its 5-s repeat), as for any request refused so.
        guard let held = hardening.heldResyncRequest else { return }
        hardening.heldResyncRequest = nil
        answerResyncRequest(now: now, heldAt: held)
    }

    func repairGaps(now: Instant) {
        for action in state.gapRepair.fire(now: now) {
            switch action {
            case .nack(let range):
                engine.requestRetransmission(range)
            case .requestResync(let reason):
                log("requesting the peer's whole table (resync): \(reason)")
                engine.requestResync()
                watchResyncAnswer(now: now)
            }
        }
    }

    func peerTick(now: Instant) {
        if state.resync.receivedTick(now: now) {
            hardening.resyncAnswered()
            log("resync complete: \(state.externalCache.entries.count) flows in the external cache")
        }
        if state.resyncSweep?.progress.receivedTick(now: now) == true, let done = state.resyncSweep {
            state.resyncSweep = nil
            hardening.resyncAnswered()
            // Only a table that arrived without a gap of its own proves what the peer lacks.
            if gapsSeen == done.gaps {
                let removed = state.externalCache.removeNotUpdated(since: done.mark)
                state.gapRepair.recordStaleRemoved(removed)
                log("the peer's table arrived whole: \(state.externalCache.entries.count) flows, \(removed) stale flow(s) it no longer has removed")
            } else {
                log("the peer's table arrived with gaps of its own: stale flows are kept until the next resync")
            }
        }
    }

    /// A resync request just went out: its answer, once whole, shows the stale flows.
    /// Without an external cache the kernel holds the peer's flows, and nothing is swept.
    func watchResyncAnswer(now: Instant) {
        hardening.ownResyncRequested(now: now)
        guard !sync.disableExternalCache else { return }
        // Read before the sweep is modified in place: both live in `state`.
        let gaps = gapsSeen
        if state.resyncSweep == nil {
            state.resyncSweep = ResyncSweep(mark: now, gaps: gaps, acknowledgements: engine.isFTFW)
        } else {
            state.resyncSweep?.requestedAgain(now: now, gaps: gaps)
        }
    }

    /// Gaps and jumps seen so far, to tell whether a resync's answer had any.
    var gapsSeen: Int { state.gapRepair.counters.gaps + state.gapRepair.counters.jumps }
}
