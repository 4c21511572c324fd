#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Netlink
import StateSync
import Timekeeping

/// ExpectationSync (spec §5.9): kernel expectations into the internal expectation cache
/// and to the peer, the peer's into the external one, and from there into the kernel.
extension ConntrackdDaemon {
    // MARK: kernel side

    func handleExpectationEvent(_ kind: FlowPrinter.EventKind, _ x: Expectation, origin: UInt32, now: Instant) {
        guard state.expectations.enabled else { return }
        // Our own commits come back as events: never echo them to the peer (§5.4).
        if origin != 0 && origin == kernel.socket.portID { return }
        runtime.eventsReceived += 1
        // A destroy is sent for whatever we announced, even if its master is already gone.
        if kind != .destroy && !admits(x) { runtime.eventsFiltered += 1; return }
        if let key = state.expectations.internalCache.record(x, kind: kind, now: now) { engine.enqueue(.expectation(key), places: &internalCache) }
    }

    /// Replicated only for a listed helper, and only when the master is one of the flows
    /// we replicate: the peer could not create it without its master.
    func admits(_ x: Expectation) -> Bool {
        guard state.expectations.accepts(helper: x.helperName), let m = x.master,
              let master = internalCache.entries[FlowKey(m)] else { return false }
        return master.state != .dead
    }

    /// Start-up and `-R expect`: the kernel's expectations, cached silently.
    func loadExpectationsFromKernel() throws {
        guard state.expectations.enabled else { return }
        let now = Instant.now()
        try kernel.dumpExpectations { x in
            guard self.admits(x) else { return }
            _ = self.state.expectations.internalCache.record(x, kind: .new, now: now)
        }
    }

    func bulkSendExpectations() {
        for (k, e) in state.expectations.internalCache.entries where e.state != .dead { engine.enqueue(.expectation(k), places: &internalCache) }
    }

    /// The message an expectation's current state makes, or a bypassed event's; nil for
    /// flows and vanished keys.
    func render(other object: SyncObjectKey) -> (SyncMessageType, SyncMessage.Body)? {
        if case .bypassed(let id) = object { return state.internalBypass.take(id) }
        guard case .expectation(let key) = object, let e = state.expectations.internalCache.entries[key] else { return nil }
        let type: SyncMessageType = switch e.state {
        case .new: .expectationNew
        case .alive: .expectationUpdate
        case .dead: .expectationDestroy
        }
        return (type, .expectation(e.synced))
    }

    /// The peer has the object (or will never get it): a dead one may go.
    func forget(_ object: SyncObjectKey) {
        switch object {
        case .flow(let key):
            if let moved = internalCache.forget(key) { bulkWalkFollows(moveFrom: moved.from, to: moved.to) }
        case .expectation(let key): state.expectations.internalCache.forget(key)
        case .bypassed: break
        }
    }

    // MARK: peer side

    /// Received EXP messages are stored even without ExpectationSync (conntrackd does);
    /// they are then never committed.
    func applyReceived(_ type: SyncMessageType, _ x: SyncedExpectation, now: Instant) {
        if sync.disableExternalCache && state.expectations.enabled {
            inject(type, x)
        } else {
            state.expectations.externalCache.apply(type, x, now: now)
        }
    }

    /// DisableExternalCache (spec §5.3): an UPDATE is a create, a missing entry on
    /// DESTROY is no failure.
    func inject(_ type: SyncMessageType, _ synced: SyncedExpectation) {
        guard let x = synced.expectation(timeout: synced.timeout ?? 60) else {
            state.expectations.injected.createFailed += 1
            log("replicated expectation without master, expected or mask tuple: not injected")
            return
        }
        do {
            if type == .expectationDestroy {
                do { try kernel.deleteExpectation(x) } catch let e as NetlinkKernelError where e.errno == ENOENT {}
                state.expectations.injected.destroyed += 1
            } else {
                try createReplacing(x)
                if type == .expectationNew { state.expectations.injected.created += 1 } else { state.expectations.injected.updated += 1 }
            }
        } catch {
            if type == .expectationDestroy { state.expectations.injected.destroyFailed += 1 }
            else if type == .expectationNew { state.expectations.injected.createFailed += 1 }
            else { state.expectations.injected.updateFailed += 1 }
            log("cannot inject a replicated expectation into the kernel: \(error)")
        }
    }

    /// Creates `x`; one that exists already is deleted and created once more (§5.5).
    func createReplacing(_ x: Expectation) throws {
        do {
            try kernel.createExpectation(x)
        } catch let e as NetlinkKernelError where e.errno == EEXIST {
            try? kernel.deleteExpectation(x)
            try kernel.createExpectation(x)
        }
    }

    // MARK: commit (spec §5.5)

    /// Creates the external expectations in the kernel, after their masters. The timeout
    /// is CommitTimeout, else what remains of the received one, else 60 s.
    @discardableResult
    func commitExpectations(now: Instant) -> (succeeded: Int, failed: Int) {
        guard state.expectations.enabled else { return (0, 0) }
        log("committing expectation cache")
        var failed = 0
        var batch: [Expectation] = []
        for e in state.expectations.externalCache.entries.values {
            let timeout: UInt32
            if sync.commitTimeout > 0 {
                timeout = UInt32(sync.commitTimeout)
            } else {
                let elapsed = (now - e.updated).wholeSeconds
                let left = Int64(e.synced.timeout ?? 0) - elapsed
                timeout = left > 0 ? UInt32(left) : 60
            }
            guard let x = e.synced.expectation(timeout: timeout) else { failed += 1; continue }
            batch.append(x)
        }
        // One batched write; the few that exist already are replaced one by one.
        var succeeded = 0
        do {
            let r = try kernel.createExpectations(batch)
            succeeded = r.succeeded
            for (index, error) in r.failures {
                let x = batch[index]
                do {
                    guard error.errno == EEXIST else { throw error }
                    try createReplacing(x)
                    succeeded += 1
                } catch {
                    failed += 1
                    log("commit-create: \(error)\n\t\(Self.expectationLine(x))")
                }
            }
        } catch {
            failed += batch.count
            log("commit of \(batch.count) expectations failed: \(error)")
        }
        log("Committed \(succeeded) new expectations")
        if failed > 0 { log("\(failed) expectations can't be committed") }
        return (succeeded, failed)
    }

    // MARK: control answers (spec §6)

    func flushExpectationCaches() {
        state.expectations.internalCache.removeAll()
        state.expectations.externalCache.removeAll()
    }

    /// `-s expect`: the expectation caches in the blocks `-s` uses for conntracks.
    func expectationStatistics() -> String {
        var s = statistics()
        (s.internalCache, s.externalCache) = expectationCaches()
        return s.general
    }

    func expectationCaches() -> (internal: ConntrackdStatistics.Cache, external: ConntrackdStatistics.Cache) {
        (.init(name: "internal", objects: state.expectations.internalCache.entries.count,
               active: state.expectations.internalCache.activeCount, counters: state.expectations.internalCache.counters),
         .init(name: "external", objects: state.expectations.externalCache.entries.count,
               active: state.expectations.externalCache.entries.count,
               counters: sync.disableExternalCache ? state.expectations.injected : state.expectations.externalCache.counters))
    }

    /// `-i expect` / `-e expect` (spec §6.4), or XML (§6.5): no timeout; dead entries hidden.
    func expectationListing(internal isInternal: Bool, now: Instant, xml: Bool = false) -> String {
        var out = ""
        func line(_ x: Expectation, since: Instant) {
            var x = x
            x.timeout = nil
            x.id = nil
            if xml {
                out += ExpectationXMLPrinter.format(x) + "\n"
            } else {
                out += Self.expectationLine(x) + " [active since \((now - since).wholeSeconds)s]\n"
            }
        }
        if isInternal {
            for e in state.expectations.internalCache.entries.values where e.state != .dead { line(e.expectation, since: e.since) }
        } else if !sync.disableExternalCache {
            for e in state.expectations.externalCache.entries.values {
                if let x = e.synced.expectation(timeout: nil) { line(x, since: e.since) }
            }
        }
        return out
    }

    /// conntrackd's expectation line: conntrack(8)'s without the leading timeout.
    static func expectationLine(_ x: Expectation) -> String {
        var x = x
        x.timeout = nil
        let text = ExpectationPrinter().format(x)
        guard let space = text.firstIndex(of: " ") else { return text }
        return String(text[text.index(after: space)...])
    }
}
