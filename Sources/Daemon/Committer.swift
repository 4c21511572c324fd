#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import IPAddressing
import Netlink
import StateSync
import Timekeeping

/// What a commit wrote into the kernel.
public struct CommitReport: Sendable {
    public var flows: Int
    public var succeeded: Int
    public var failed: Int
    public var duration: Duration
    /// How many flows the kernel refused, by errno.
    public var failuresByErrno: [Int32: Int] = [:]
    /// The flows refused because the table was full, as they were written: what
    /// `PendingCommit` writes again as space frees.
    var refusedForSpace: [Flow] = []
    /// Flows in batches the netlink socket failed on (the kernel may or may not hold
    /// them; writing them again is harmless, since a commit updates what exists), and why.
    var unconfirmed: [Flow] = []
    public var socketErrors: [String] = []
    /// Where the write spent its time (`TANDEM_COMMIT_TIMING`), and how long leaving and
    /// joining the event groups took around it (a quiet commit's own cost).
    public var timing = PipelineTiming()
    public var quietOverhead: Duration = .zero
    /// Entries the kernel held that could not take the replicated NAT, helper or master:
    /// removed and created again (counted in `succeeded` too).
    public var replaced = 0

    /// "120 ENOMEM (the conntrack table is full: nf_conntrack_max), 3 EINVAL (Invalid
    /// argument)", most frequent first: what an operator needs to act on a failed commit.
    public var failureCauses: String {
        failuresMostFrequentFirst.map { errno, count in
            "\(count) \(Self.errnoName(errno)) (\(Self.meaning(errno)))"
        }.joined(separator: ", ")
    }

    /// The failures by errno, most frequent first (ties by errno): the log line's order
    /// and the JSON status's.
    var failuresMostFrequentFirst: [(errno: Int32, flows: Int)] {
        failuresByErrno.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func errnoName(_ e: Int32) -> String {
        switch e {
        case ENOMEM: "ENOMEM"
        case EEXIST: "EEXIST"
        case EINVAL: "EINVAL"
        case ENOENT: "ENOENT"
        case EBUSY: "EBUSY"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EPERM: "EPERM"
        default: "errno \(e)"
        }
    }

    static func meaning(_ e: Int32) -> String {
        // The kernel answers ENOMEM to a create once the table holds nf_conntrack_max entries.
        e == ENOMEM ? "the conntrack table is full: nf_conntrack_max" : String(cString: strerror(e))
    }
}

/// Writes replicated flows into the kernel: the commit of the external cache (`-c`, and a
/// new master's) and DisableExternalCache's injection of each message as it arrives.
struct Committer {
    let kernel: ConntrackConnection
    /// CommitTimeout: the timeout committed flows get; 0 keeps the replicated one.
    let commitTimeout: Int
    /// TCPWindowTracking: without it committed TCP flows are liberal, as conntrackd makes them.
    let windowTracking: Bool
    /// The commit makes batches on this thread while another is inside sendmsg (the
    /// daemon sets it from `CommitTuning.writesOnTwoThreads`; see
    /// `NetlinkSocket.executePipelined`).
    var writesOnTwoThreads = false
    /// DisableExternalCache: what the kernel took ("external inject" in `-s`).
    var injectCounters = CacheCounters()

    static let natBits: FlowStatus = [.sourceNAT, .destinationNAT, .sourceNATDone, .destinationNATDone]

    /// What the kernel is given for a replicated flow. `timeout` nil: CommitTimeout if
    /// set, else the received timeout, else 180 s.
    func kernelFlow(_ synced: SyncedFlow, timeout: UInt32?) -> Flow? {
        guard var f = synced.flow else { return nil }
        // With NAT, give the kernel the untranslated reply and the NAT ranges: it then
        // computes the translated reply itself and marks the entry as NAT'd. Handed a
        // translated reply it sees nothing to translate, and replies reach our own stack
        // instead of the client (and get reset).
        if f.sourceNAT != nil || f.destinationNAT != nil, let o = f.original { f.reply = o.inverted }
        f.timeout = timeout ?? (commitTimeout > 0 ? UInt32(commitTimeout) : (f.timeout ?? 180))
        if f.original?.protocolNumber == IPProtocolNumber.tcp, !windowTracking {
            let liberal = TCPFlags(flags: 0x08, mask: 0x08)
            var tcp = f.protocolInfo?.tcp ?? TCPInfo()
            tcp.flagsOriginal = liberal
            tcp.flagsReply = liberal
            f.protocolInfo = .tcp(tcp)
        }
        return f
    }

    /// Writes the external cache's flows: batched, updating entries that exist, converted
    /// lazily batch by batch while the kernel applies the previous batch. Masters go first:
    /// the kernel refuses a related flow whose master it does not have. An entry that
    /// cannot become a flow goes out without a tuple, so the kernel refuses it and it is
    /// counted as failed rather than skipped unseen. Packed entries are written and
    /// adopted packed (`committed`). `adopt` sees each flow as the kernel is given it;
    /// `quietly` leaves that listener's NEW and UPDATE groups during the write; `hold`
    /// keeps them left that much longer (test-only: a change the events then miss).
    /// `meanwhile` runs every `meanwhileEvery` flows and every few ms of a hold: the
    /// daemon reads the peer's datagrams into memory there (`ChannelSet.stash()`).
    func commit<Entries: Collection>(_ entries: Entries, adopt: ((CompactFlow) -> Void)?,
                                     quietly listener: ConntrackEventListener?, hold: Duration = .zero,
                                     meanwhile: (() -> Void)? = nil) throws -> CommitReport where Entries.Element == ExternalCache.Entry {
        let started = Instant.now()
        // Without related flows the table's own order will do, read in place: a copy of
        // every entry's stored form was 32 bytes a flow on top of the external cache and
        // the internal one the commit fills (the receiver's memory peak). With related
        // flows, one pass copies the masters first.
        guard entries.contains(where: { $0.stored.hasMaster }) else {
            return try write(entries.lazy.map(\.stored), started: started, adopt: adopt, quietly: listener, hold: hold, meanwhile: meanwhile)
        }
        var ordered: [CompactSyncedFlow] = []
        ordered.reserveCapacity(entries.count)
        var related: [CompactSyncedFlow] = []
        for e in entries {
            if e.stored.hasMaster { related.append(e.stored) } else { ordered.append(e.stored) }
        }
        ordered += related
        return try write(ordered, started: started, adopt: adopt, quietly: listener, hold: hold, meanwhile: meanwhile)
    }

    /// `commit`'s write, of the flows in the order given (their positions name failures).
    private func write<Ordered: Collection>(_ ordered: Ordered, started: Instant, adopt: ((CompactFlow) -> Void)?,
                                            quietly listener: ConntrackEventListener?, hold: Duration,
                                            meanwhile: (() -> Void)?) throws -> CommitReport where Ordered.Element == CompactSyncedFlow {
        var writing = Duration.zero
        let write = { () throws -> BatchResult in
            let begun = Instant.now()
            defer { writing = Instant.now() - begun }
            var pace = EveryNth(Self.meanwhileEvery, meanwhile)
            // `produce` runs on this thread even when the writes are pipelined, so `meanwhile`
            // touches the daemon's state from its own thread only.
            return try self.kernel.create(encoding: ordered, updateExisting: true, acknowledge: false, reportingUnanswered: true,
                                          threaded: self.writesOnTwoThreads) { stored, e in
                pace.tick()
                switch self.committed(stored) {
                case .packed(let k)?:
                    adopt?(.packed(k))
                    k.encodeRequest(into: &e)
                case .general(let f)?:
                    adopt?(.general(f))
                    FlowCodec.encode(f, into: &e)
                case nil:
                    FlowCodec.encode(Flow(), into: &e)
                }
            }
        }
        let r = try listener.map { l in
            try l.withoutEvents {
                let r = try write()
                if hold > .zero { Self.pause(hold, meanwhile: meanwhile) }
                return r
            }
        } ?? write()
        var failures = r.failures.map { (index: $0.index, errno: $0.error.errno) }
        var replaced = 0
        let colliding = Set(failures.lazy.filter { $0.errno == EOPNOTSUPP }.map(\.index))
        if !colliding.isEmpty {
            let written = ordered.enumerated().compactMap { i, e in
                colliding.contains(i) ? kernelFlow(e.synced, timeout: nil).map { (index: i, flow: $0) } : nil
            }
            let again = try replace(written)
            replaced = again.replaced
            failures = failures.filter { !colliding.contains($0.index) } + again.failures
        }
        var byErrno: [Int32: Int] = [:]
        for failure in failures { byErrno[failure.errno, default: 0] += 1 }
        let duration = Instant.now() - started
        var report = CommitReport(flows: ordered.count, succeeded: r.succeeded + replaced, failed: failures.count + r.unansweredCount,
                                  duration: duration, failuresByErrno: byErrno)
        report.replaced = replaced
        report.timing = r.timing
        if listener != nil { report.quietOverhead = duration - writing - hold }
        report.socketErrors = r.unanswered.map { "\($0.indices.count) flows: \($0.error)" }
        let full = Set(failures.lazy.filter { $0.errno == ENOMEM }.map(\.index))
        let unanswered = r.unanswered.map(\.indices)
        if !full.isEmpty || !unanswered.isEmpty {
            // Found again by position: the write went through `ordered` in this order.
            for (i, stored) in ordered.enumerated() {
                let lacksSpace = full.contains(i)
                guard lacksSpace || unanswered.contains(where: { $0.contains(i) }), let f = kernelFlow(stored.synced, timeout: nil) else { continue }
                if lacksSpace { report.refusedForSpace.append(f) } else { report.unconfirmed.append(f) }
            }
        }
        return report
    }

    /// Flows written between two calls of a commit's `meanwhile`: a few batches, so on a
    /// loaded machine (8.4 s for 8,622 flows in a soak) the peer's datagrams are read about
    /// as often as the batches go out, and on a quiet one the calls cost nothing.
    static let meanwhileEvery = 1_024

    /// Sleeps `hold`, running `meanwhile` every 5 ms of it.
    static func pause(_ hold: Duration, meanwhile: (() -> Void)?) {
        let end = Instant.now() + hold
        while case let left = Instant.now().remaining(until: end), left > .zero {
            meanwhile?()
            usleep(UInt32(clamping: min(left, .milliseconds(5)).microsecondCount))
        }
    }

    /// Writes again flows a full table refused. Returns the kernel's refusals by position;
    /// a socket error is thrown (every flow is then tried again later). A table that stays
    /// full can leave a whole commit waiting here, so `meanwhile` runs as in `commit`.
    func retry(_ flows: [Flow], meanwhile: (() -> Void)? = nil) throws -> [Int: Int32] {
        var pace = EveryNth(Self.meanwhileEvery, meanwhile)
        let r = try kernel.create(encoding: flows, updateExisting: true, acknowledge: false,
                                  threaded: writesOnTwoThreads) { flow, e in
            pace.tick()
            FlowCodec.encode(ConntrackConnection.forCreate(flow), into: &e)
        }
        return Dictionary(r.failures.map { ($0.index, $0.error.errno) }, uniquingKeysWith: { a, _ in a })
    }

    /// DisableExternalCache (spec §5.3): a loop turn's messages go into the kernel in one
    /// batch per kind, not one request each. Returns the error that stopped it, if any.
    mutating func inject(_ queued: [(SyncMessageType, SyncedFlow)]) -> Error? {
        var creates: [Flow] = [], updates: [Flow] = [], deletes: [Flow] = []
        for (type, synced) in queued {
            guard var f = kernelFlow(synced, timeout: synced.timeout ?? 180) else { continue }
            switch type {
            case .flowNew: creates.append(f)
            case .flowUpdate:
                // An existing entry cannot take NAT, helper or master changes.
                f.sourceNAT = nil
                f.destinationNAT = nil
                f.helper = nil
                f.master = nil
                if let o = f.original, f.reply == nil || f.status?.isDisjoint(with: Self.natBits) == false { f.reply = o.inverted }
                f.status = f.status?.subtracting(Self.natBits)
                updates.append(f)
            case .flowDestroy:
                deletes.append(Flow(original: f.original!))
            default: break
            }
        }
        // As the commit writes: no acknowledgement per flow (the kernel still answers each
        // refusal) and no helper thread. At a burst of 100k flows a second a backup did a
        // thread hand-off every turn and read back an ACK per flow, and fell behind the
        // master until its receive socket overflowed (the 1M `vips-up` runs).
        func create(_ flows: [Flow]) throws -> BatchResult {
            try kernel.create(encoding: flows, updateExisting: true, acknowledge: false, threaded: false) { flow, e in
                FlowCodec.encode(ConntrackConnection.forCreate(flow), into: &e)
            }
        }
        do {
            if !creates.isEmpty {
                let r = try create(creates)
                injectCounters.created += r.succeeded
                injectCounters.createFailed += r.failed
            }
            if !updates.isEmpty {
                let r = try create(updates)
                injectCounters.updated += r.succeeded
                injectCounters.updateFailed += r.failed
            }
            if !deletes.isEmpty {
                let r = try kernel.delete(deletes, acknowledge: false, threaded: false)
                // An entry already gone is not a failure.
                let missing = r.failures.filter { $0.error.errno == ENOENT }.count
                injectCounters.destroyed += r.succeeded + missing
                injectCounters.destroyFailed += r.failed - missing
            }
            return nil
        } catch {
            return error
        }
    }
}
