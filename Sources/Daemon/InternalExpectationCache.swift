import Conntrack
import StateSync
import Timekeeping

/// Local expectations, fed by the kernel (spec §5.1, §5.9). As for flows, an entry's state
/// picks the message at transmit time: never updated → NEW, updated → UPDATE, gone → DESTROY.
public struct InternalExpectationCache: Sendable {
    public struct Entry: Sendable {
        /// As the kernel reported it, for `-i expect`.
        public var expectation: Expectation
        /// What the peer is sent, rendered once with the daemon's sender options.
        public var synced: SyncedExpectation
        public var state: InternalCache.State
        public var since: Instant
    }

    public private(set) var entries: [ExpectationKey: Entry] = [:]
    public private(set) var counters = CacheCounters()
    public let limit: Int
    let options: SyncSenderOptions

    public init(limit: Int, options: SyncSenderOptions) {
        self.limit = limit
        self.options = options
    }

    public var activeCount: Int { entries.values.reduce(0) { $0 + ($1.state == .dead ? 0 : 1) } }

    /// A kernel event or dumped expectation. Returns the key to send, or nil when there is
    /// nothing to send (unknown destroy, full cache, or no tuples to sync).
    public mutating func record(_ x: Expectation, kind: FlowPrinter.EventKind, now: Instant) -> ExpectationKey? {
        guard let synced = SyncedExpectation(expectation: x, options: options) else { return nil }
        let key = ExpectationKey(synced)
        switch kind {
        case .destroy:
            guard entries[key] != nil else { counters.destroyFailed += 1; return nil }
            entries[key]!.state = .dead
            counters.destroyed += 1
        case .new, .update:
            if var e = entries[key], e.state != .dead {
                e.expectation = x
                e.synced = synced
                e.state = .alive
                entries[key] = e
                counters.updated += 1
            } else {
                guard entries.count < limit || entries[key] != nil else { counters.createFailed += 1; return nil }
                entries[key] = Entry(expectation: x, synced: synced, state: kind == .new ? .new : .alive, since: now)
                counters.created += 1
            }
        }
        return key
    }

    /// A dead entry may go once the peer has it (or at once outside FTFW).
    public mutating func forget(_ key: ExpectationKey) {
        if entries[key]?.state == .dead { entries[key] = nil }
    }

    public mutating func removeAll() { entries.removeAll() }
}
