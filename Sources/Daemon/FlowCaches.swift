import Conntrack
import StateSync
import Timekeeping

public struct CacheCounters: Hashable, Sendable {
    public var created = 0, createFailed = 0
    public var updated = 0, updateFailed = 0
    public var destroyed = 0, destroyFailed = 0
    public init() {}
}

/// Local flows, fed by the kernel (spec §5.1). An entry's state picks the message type
/// at transmit time (§3.4): never updated → NEW, updated → UPDATE, destroyed → DESTROY.
public struct InternalCache: Sendable {
    public enum State: Sendable { case new, alive, dead }
    public struct Entry: Sendable {
        var stored: CompactFlow
        /// The state in the low two bits, the kind of FTFW place in the next two, then
        /// `seenBySweep`: in the byte after the packed flow, so that with `since` in whole
        /// seconds and the place's sequence number an entry is 64 bytes (`CachedFormsTests`).
        private var marks: UInt8
        private var sinceSeconds: UInt32
        private var sequence: UInt32 = 0

        init(stored: CompactFlow, state: State, since: Instant) {
            self.stored = stored
            marks = 0
            sinceSeconds = WholeSeconds.of(since)
            self.state = state
        }

        public var state: State {
            get {
                switch marks & 3 {
                case 0: .new
                case 1: .alive
                default: .dead
                }
            }
            set {
                let bits: UInt8 = switch newValue {
                case .new: 0
                case .alive: 1
                case .dead: 2
                }
                marks = marks & ~3 | bits
            }
        }

        /// When the flow entered the cache, in whole seconds.
        public var since: Instant { WholeSeconds.instant(sinceSeconds) }

        /// The flow's place in the FTFW engine, kept here so that the engine's steps
        /// for a flow cost no look-up beyond the cache's own.
        public var place: FTFWPlace {
            get {
                switch marks >> 2 & 3 {
                case 0: .idle
                case 1: .queued
                default: .awaitingAcknowledgement(sequence)
                }
            }
            set {
                let kind: UInt8
                switch newValue {
                case .idle: kind = 0; sequence = 0
                case .queued: kind = 1; sequence = 0
                case .awaitingAcknowledgement(let s): kind = 2; sequence = s
                }
                marks = marks & ~12 | kind << 2
            }
        }

        /// Set while a re-read of the kernel table is under way for each entry it has
        /// listed, and clear outside one (`markMissing`).
        var seenBySweep: Bool {
            get { marks & 16 != 0 }
            set { marks = newValue ? marks | 16 : marks & ~16 }
        }

        public var flow: Flow {
            get { stored.flow }
            set { stored = CompactFlow(newValue) }
        }
    }

    private(set) var entries = FlowTable<Entry>()
    /// FTFW places of the engine's other objects (expectations, bypassed events).
    var otherPlaces = FTFWPlaceIndex<SyncObjectKey>()
    public private(set) var counters = CacheCounters()
    /// Entries in state `.dead`, waiting for the peer's acknowledgement to be forgotten.
    public private(set) var deadCount = 0
    public let limit: Int

    /// `initialCapacity`: flows the table holds before it first grows (HashSize).
    public init(limit: Int, initialCapacity: Int = 0) {
        self.limit = limit
        entries = FlowTable(minimumCapacity: initialCapacity)
    }

    public var capacityBeforeGrowth: Int { entries.capacity }

    public var count: Int { entries.count }

    public var activeCount: Int { entries.count - deadCount }

    /// A kernel event or dumped entry. Returns the key to send, or nil when the cache is full.
    /// `seenBySweep`: a re-read of the kernel table lists it (see `markMissing`).
    public mutating func record(_ flow: Flow, kind: FlowPrinter.EventKind, now: Instant, seenBySweep: Bool = false) -> FlowKey? {
        guard let o = flow.original else { return nil }
        // Nothing reads the counters or the use count back from the cache (listings drop
        // them): without them most flows fit the packed form.
        var flow = flow
        flow.countersOriginal = nil
        flow.countersReply = nil
        flow.use = nil
        let key = FlowKey(o)
        switch kind {
        case .destroy:
            guard let i = entries.index(forKey: key) else { counters.destroyFailed += 1; return nil }
            if entries[valueAt: i].state != .dead { deadCount += 1 }
            entries[valueAt: i].state = .dead
            counters.destroyed += 1
            return key
        case .new, .update:
            return store(key, CompactFlow(flow), kind: kind, now: now, seenBySweep: seenBySweep)
        }
    }

    /// `record` for an event already in the packed form (NEW or UPDATE), whose key
    /// (`FlowKey(packed: p.original)`) the caller has made.
    mutating func record(packed p: CompactFlow.Packed, key: FlowKey, kind: FlowPrinter.EventKind, now: Instant,
                         seenBySweep: Bool = false) -> FlowKey? {
        store(key, .packed(p), kind: kind, now: now, seenBySweep: seenBySweep)
    }

    /// Inserts or merges with one look-up whether the flow is new or known.
    private mutating func store(_ key: FlowKey, _ new: CompactFlow, kind: FlowPrinter.EventKind, now: Instant,
                                seenBySweep: Bool = false) -> FlowKey? {
        let full = entries.count >= limit
        switch entries.update(key, { slot in
            let outcome = Self.update(&slot, with: new, kind: kind, now: now, full: full)
            if seenBySweep { slot?.seenBySweep = true }
            return outcome
        }) {
        case .updated: counters.updated += 1
        case .created: counters.created += 1
        case .revived: counters.created += 1; deadCount -= 1
        case .refused: counters.createFailed += 1; return nil
        }
        return key
    }

    private enum Outcome { case updated, created, revived, refused }

    private static func update(_ slot: inout Entry?, with new: CompactFlow, kind: FlowPrinter.EventKind, now: Instant, full: Bool) -> Outcome {
        if slot == nil && full { return .refused }
        guard var e = slot, e.state != .dead else {
            let outcome: Outcome = slot == nil ? .created : .revived
            var fresh = Entry(stored: new, state: kind == .new ? .new : .alive, since: now)
            // A revived flow's destroy may still be queued or unacknowledged.
            if let old = slot { fresh.place = old.place }
            slot = fresh
            return outcome
        }
        if case .packed(let old) = e.stored, case .packed(let p) = new {
            e.stored = .packed(old.merged(with: p))
        } else {
            e.flow = Self.merged(e.flow, with: new.flow)
        }
        e.state = .alive
        slot = e
        return .updated
    }

    /// Events omit unchanged attributes (a zero mark, for example): keep what we knew.
    static func merged(_ old: Flow, with new: Flow) -> Flow {
        var f = new
        if f.reply == nil { f.reply = old.reply }
        if f.mark == nil { f.mark = old.mark }
        if f.status == nil { f.status = old.status }
        if f.timeout == nil { f.timeout = old.timeout }
        if f.protocolInfo == nil { f.protocolInfo = old.protocolInfo }
        if f.helper == nil { f.helper = old.helper }
        if f.zone == nil { f.zone = old.zone }
        if f.timestamp == nil { f.timestamp = old.timestamp }
        return f
    }

    /// See `FlowTable.prefetch`. Mutating though it changes nothing: the daemon holds the
    /// cache in a class, and a non-mutating call there copied the whole struct (retaining
    /// and releasing each of its buffers) once per kernel event, 2-4% of a sender's CPU;
    /// an inout access borrows it in place.
    mutating func prefetch(_ key: FlowKey) { entries.prefetch(key) }

    mutating func setPlace(_ place: FTFWPlace, at position: Int) {
        entries[valueAt: position].place = place
    }

    /// Drops a dead entry. Returns where the table's last entry moved to fill its place.
    @discardableResult
    public mutating func forget(_ key: FlowKey) -> (from: Int, to: Int)? {
        guard let i = entries.index(forKey: key), entries[valueAt: i].state == .dead else { return nil }
        let last = entries.count - 1
        entries.remove(at: i)
        deadCount -= 1
        return i == last ? nil : (last, i)
    }

    /// After a re-read of the kernel table, whose entries were recorded `seenBySweep`:
    /// marks live entries it did not list as dead and returns their keys, and clears the
    /// marks. A bit in each entry rather than a set of the keys listed, which took 32
    /// bytes a flow (8 MiB at 250,000) on top of the receiver's peak a second after
    /// every quiet commit.
    public mutating func markMissing() -> [FlowKey] {
        var gone: [FlowKey] = []
        for i in 0 ..< entries.count {
            if entries[valueAt: i].seenBySweep {
                entries[valueAt: i].seenBySweep = false
            } else if entries[valueAt: i].state != .dead {
                entries[valueAt: i].state = .dead
                deadCount += 1
                counters.destroyed += 1
                gone.append(entries.key(at: i))
            }
        }
        return gone
    }

    /// A re-read that failed part way: its marks are cleared, nothing is marked dead.
    mutating func abandonSweep() {
        for i in 0 ..< entries.count where entries[valueAt: i].seenBySweep { entries[valueAt: i].seenBySweep = false }
    }

    public mutating func removeAll() {
        entries.removeAll()
        deadCount = 0
    }

    /// Empties the cache, handing the entries to the caller to free when convenient.
    mutating func takeAll() -> FlowTable<Entry> {
        defer { entries = FlowTable(); deadCount = 0 }
        return entries
    }
}

/// Flows the peer told us about (spec §5.2), kept as it sent them.
public struct ExternalCache: Sendable {
    public struct Entry: Sendable {
        var stored: CompactSyncedFlow
        private var sinceSeconds: UInt32
        /// The last NEW or UPDATE, on the cache's `stamps`: see `ExternalCache.updated(of:)`.
        fileprivate(set) var updatedStamp: UInt32

        init(stored: CompactSyncedFlow, since: Instant, updatedStamp: UInt32) {
            self.stored = stored
            sinceSeconds = WholeSeconds.of(since)
            self.updatedStamp = updatedStamp
        }

        /// When the flow entered the cache, in whole seconds.
        public var since: Instant { WholeSeconds.instant(sinceSeconds) }

        public var synced: SyncedFlow {
            get { stored.synced }
            set { stored = CompactSyncedFlow(newValue) }
        }
    }

    private(set) var entries = FlowTable<Entry>()
    public private(set) var counters = CacheCounters()
    public let limit: Int
    private var stamps = UpdateStamps()

    /// `initialCapacity`: flows the table holds before it first grows (HashSize).
    public init(limit: Int, initialCapacity: Int = 0) {
        self.limit = limit
        entries = FlowTable(minimumCapacity: initialCapacity)
    }

    public var capacityBeforeGrowth: Int { entries.capacity }

    public var count: Int { entries.count }

    /// When the entry's last NEW or UPDATE arrived (to the millisecond, rounded down).
    public func updated(of entry: Entry) -> Instant { stamps.instant(of: entry.updatedStamp) }

    /// `now` as an entry's stamp; when the stamps' epoch has to move on, every stored
    /// stamp moves with it first.
    private mutating func stamp(_ now: Instant) -> UInt32 {
        let (stamp, moved) = stamps.stamp(now)
        if moved > 0 {
            for i in 0 ..< entries.count {
                entries[valueAt: i].updatedStamp = UpdateStamps.lowered(entries[valueAt: i].updatedStamp, by: moved)
            }
        }
        return stamp
    }

    /// ALARM mode: entries not refreshed for `lifetime` are dropped.
    public mutating func expire(now: Instant, lifetime: Duration) {
        guard let cutoff = stamps.stamp(of: now - lifetime) else { return }
        removeEntries { $0.updatedStamp <= cutoff }
    }

    /// Removes (and counts as destroyed) the entries `stale` picks; returns how many.
    @discardableResult
    private mutating func removeEntries(where stale: (Entry) -> Bool) -> Int {
        var removed = 0
        // Backwards: a removal moves the last entry into the gap, which is then behind us.
        for i in stride(from: entries.count - 1, through: 0, by: -1) where stale(entries[valueAt: i]) {
            entries.remove(at: i)
            removed += 1
        }
        counters.destroyed += removed
        return removed
    }

    /// NEW replaces, UPDATE merges what it carries (or creates), DESTROY removes.
    public mutating func apply(_ type: SyncMessageType, _ synced: SyncedFlow, now: Instant) {
        guard let o = synced.originalTuple else { return }
        apply(type, key: FlowKey(o), now: now, stored: { CompactSyncedFlow(synced) }, synced: { synced })
    }

    /// `apply` for a message the receiver decoded straight into the packed form (see
    /// `CompactSyncedFlow.Packed(payload:)`): the same outcome and counters.
    mutating func apply(_ type: SyncMessageType, packed p: CompactSyncedFlow.Packed, now: Instant) {
        guard let o = p.originalTuple else { return apply(type, p.synced, now: now) }
        apply(type, key: FlowKey(packed: o), now: now, stored: { .packed(p) }, synced: { p.synced })
    }

    /// Both forms' `apply`: `stored` is what a NEW keeps, `synced` what an UPDATE
    /// merges (rare in a burst, where NEW comes first).
    private mutating func apply(_ type: SyncMessageType, key: FlowKey, now: Instant,
                                stored: () -> CompactSyncedFlow, synced: () -> SyncedFlow) {
        switch type {
        case .flowDestroy:
            if entries.removeValue(forKey: key) != nil { counters.destroyed += 1 } else { counters.destroyFailed += 1 }
        case .flowNew, .flowUpdate:
            let full = entries.count >= limit
            let stamp = stamp(now)
            switch entries.update(key, { slot -> Bool? in
                if slot == nil && full { return nil }
                guard type == .flowUpdate, var e = slot else {
                    slot = Entry(stored: stored(), since: now, updatedStamp: stamp)
                    return false
                }
                e.synced = Self.merge(e.synced, synced())
                e.updatedStamp = stamp
                slot = e
                return true
            }) {
            case true?: counters.updated += 1
            case false?: counters.created += 1
            case nil: counters.createFailed += 1
            }
        default:
            break
        }
    }

    static func merge(_ old: SyncedFlow, _ new: SyncedFlow) -> SyncedFlow {
        var m = old
        func take<T>(_ kp: WritableKeyPath<SyncedFlow, T?>) { if let v = new[keyPath: kp] { m[keyPath: kp] = v } }
        take(\.status); take(\.timeout); take(\.mark); take(\.tcpState); take(\.sctpState); take(\.sctpVtagOriginal)
        take(\.sctpVtagReply); take(\.dccpState); take(\.dccpRole); take(\.windowScaleOriginal); take(\.windowScaleReply)
        take(\.sourceNAT); take(\.destinationNAT); take(\.sourcePortNAT); take(\.destinationPortNAT)
        take(\.sequenceAdjustment); take(\.helper); take(\.labels); take(\.synproxy); take(\.zone)
        take(\.masterSource); take(\.masterDestination); take(\.masterProtocol); take(\.masterPorts)
        return m
    }

    public mutating func removeAll() { entries.removeAll() }

    /// Removes the entries no message has created or updated since `mark`:
    /// after the peer's whole table arrived whole, these are flows it no longer has.
    /// Returns how many went.
    public mutating func removeNotUpdated(since mark: Instant) -> Int {
        guard let m = stamps.stamp(of: mark) else { return 0 }
        return removeEntries { $0.updatedStamp < m }
    }

    /// Empties the cache, handing the entries to the caller to free when convenient.
    mutating func takeAll() -> FlowTable<Entry> {
        defer { entries = FlowTable() }
        return entries
    }
}

extension InternalCache.Entry: FlowKeyed {
    var flowKey: FlowKey {
        switch stored {
        case .packed(let p): FlowKey(packed: p.original)
        case .general(let f): f.original.map(FlowKey.init) ?? .unnamed
        }
    }

    /// A whole flow's tuple is compared as it is, not boxed into a key first.
    func isKeyed(by key: FlowKey) -> Bool {
        guard case .general(let f) = stored else { return flowKey == key }
        return f.original.map(key.names) ?? false
    }
}

extension ExternalCache.Entry: FlowKeyed {
    var flowKey: FlowKey {
        switch stored {
        case .packed(let p): p.originalTuple.map { FlowKey(packed: $0) } ?? .unnamed
        case .general(let s): s.originalTuple.map(FlowKey.init) ?? .unnamed
        }
    }

    /// A whole message's tuple is compared as it is, not boxed into a key first.
    func isKeyed(by key: FlowKey) -> Bool {
        switch stored {
        case .packed(let p): p.originalTuple.map { FlowKey(packed: $0) == key } ?? false
        case .general(let s): s.originalTuple.map(key.names) ?? false
        }
    }
}
