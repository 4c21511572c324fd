import Conntrack
@testable import Daemon
import StateSync
import Testing
import TestSupport
import Timekeeping

/// The external cache holds at most HashLimit flows from the peer: once full, a new flow
/// is refused and counted ("cache full" in the sync refusals), and never pushes out one
/// already held; updates of held flows and destroys still apply, and room made by a
/// destroy is taken again (docs/sync-hardening.md).
@Suite struct ExternalCacheBoundTests {
    static func flow(_ n: UInt32) -> SyncedFlow {
        var f = SyncedFlow()
        f.source = .v4(0x0aec_0100 | n)
        f.destination = .v4(0x0aec_0200 | n)
        f.protocolNumber = 17
        f.ports = SyncPorts(source: UInt16(1_000 + n), destination: 53)
        f.status = 0x8
        return f
    }

    @Test func aFullCacheRefusesNewFlowsAndKeepsItsOwn() {
        var cache = ExternalCache(limit: 3)
        for n: UInt32 in 1 ... 3 { cache.apply(.flowNew, Self.flow(n), now: ns(0)) }
        #expect(cache.count == 3)
        // A forger's flood of new flows: every one refused, none of the held ones lost.
        for n: UInt32 in 10 ..< 200 { cache.apply(.flowNew, Self.flow(n), now: ns(1)) }
        #expect(cache.count == 3)
        #expect(cache.counters.createFailed == 190)
        #expect(cache.counters.created == 3)
        let held = Set(cache.entries.values.map { $0.synced.source })
        #expect(held == Set((UInt32(1) ... 3).map { Self.flow($0).source }))
        // A held flow is still updated, and a destroy makes room again.
        var changed = Self.flow(2)
        changed.mark = 7
        cache.apply(.flowUpdate, changed, now: ns(2))
        #expect(cache.counters.updated == 1)
        cache.apply(.flowDestroy, Self.flow(1), now: ns(3))
        cache.apply(.flowNew, Self.flow(50), now: ns(4))
        #expect(cache.count == 3)
        #expect(cache.counters.created == 4)
    }

    /// Control: below the limit nothing is refused.
    @Test func belowTheLimitEveryFlowIsTaken() {
        var cache = ExternalCache(limit: 1_000)
        for n: UInt32 in 1 ..< 200 { cache.apply(.flowNew, Self.flow(n), now: ns(0)) }
        #expect(cache.count == 199)
        #expect(cache.counters.createFailed == 0)
    }
}
