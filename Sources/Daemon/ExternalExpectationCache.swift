import StateSync
import Timekeeping

/// Expectations the peer told us about (spec §5.2), kept as it sent them.
public struct ExternalExpectationCache: Sendable {
    public struct Entry: Sendable {
        public var synced: SyncedExpectation
        public var since: Instant
        public var updated: Instant
    }

    public private(set) var entries: [ExpectationKey: Entry] = [:]
    public private(set) var counters = CacheCounters()
    public let limit: Int

    public init(limit: Int) { self.limit = limit }

    /// NEW replaces, UPDATE refreshes (or creates), DESTROY removes (spec §2.7). Every
    /// attribute but the timeout is part of the key, so a refresh can change only that.
    public mutating func apply(_ type: SyncMessageType, _ synced: SyncedExpectation, now: Instant) {
        let key = ExpectationKey(synced)
        switch type {
        case .expectationDestroy:
            if entries.removeValue(forKey: key) != nil { counters.destroyed += 1 } else { counters.destroyFailed += 1 }
        case .expectationNew, .expectationUpdate:
            if var e = entries[key] {
                if type == .expectationNew { e.since = now }
                if let t = synced.timeout { e.synced.timeout = t }
                e.updated = now
                entries[key] = e
                if type == .expectationNew { counters.created += 1 } else { counters.updated += 1 }
            } else {
                guard entries.count < limit else { counters.createFailed += 1; return }
                entries[key] = Entry(synced: synced, since: now, updated: now)
                counters.created += 1
            }
        default:
            break
        }
    }

    public mutating func removeAll() { entries.removeAll() }
}
