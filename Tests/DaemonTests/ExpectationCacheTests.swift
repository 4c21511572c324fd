import Conntrack
import Daemon
import StateSync
import Testing
import IPAddressing
import TestSupport
import Timekeeping

/// The expectation caches and the ExpectationSync helper filter (spec §2.7, §5.9).
@Suite struct ExpectationCacheTests {
    static func expectation(port: UInt16 = 40036, helper: String? = "ftp", timeout: UInt32 = 300) -> Conntrack.Expectation {
        let a = IPAddress("10.232.0.1")!, b = IPAddress("10.232.0.2")!, ones = IPAddress("255.255.255.255")!
        var x = Conntrack.Expectation(family: AddressFamily.inet)
        x.master = Tuple(source: a, destination: b, protocolNumber: 6, sourcePort: 45100, destinationPort: 21)
        x.tuple = Tuple(source: b, destination: a, protocolNumber: 6, sourcePort: 0, destinationPort: port)
        x.mask = Tuple(source: ones, destination: ones, protocolNumber: 6, sourcePort: 0, destinationPort: 65535)
        x.timeout = timeout
        x.flags = []
        x.expectationClass = 0
        x.helperName = helper
        return x
    }

    @Test func helperNamesMatchAsCaseInsensitivePrefixes() {
        let listed = ExpectationSyncState(setting: .helpers(["FTP", "sip"]), limit: 10, options: SyncSenderOptions())
        #expect(listed.accepts(helper: "ftp"))
        #expect(listed.accepts(helper: "sip-5060"))
        #expect(!listed.accepts(helper: "tftp"))
        #expect(!listed.accepts(helper: nil))
        let all = ExpectationSyncState(setting: .all, limit: 10, options: SyncSenderOptions())
        #expect(all.accepts(helper: nil) && all.enabled)
        let off = ExpectationSyncState(setting: .off, limit: 10, options: SyncSenderOptions())
        #expect(!off.accepts(helper: "ftp") && !off.enabled)
    }

    @Test func internalCacheTracksKernelEvents() throws {
        var cache = InternalExpectationCache(limit: 10, options: SyncSenderOptions())
        let first = cache.record(Self.expectation(), kind: .new, now: ns(1))
        let key = try #require(first)
        #expect(cache.entries[key]?.state == .new)
        // The timeout is not part of the identity: a refresh finds the same entry.
        let again = cache.record(Self.expectation(timeout: 100), kind: .new, now: ns(2))
        #expect(again == key)
        #expect(cache.entries[key]?.state == .alive && cache.entries.count == 1)
        let destroyed = cache.record(Self.expectation(), kind: .destroy, now: ns(3))
        #expect(destroyed == key)
        #expect(cache.activeCount == 0 && cache.entries.count == 1)
        cache.forget(key)
        #expect(cache.entries.isEmpty)
        // An unknown destroy is counted, not sent.
        let unknown = cache.record(Self.expectation(), kind: .destroy, now: ns(4))
        #expect(unknown == nil)
        #expect(cache.counters.destroyFailed == 1)
    }

    @Test func internalCacheRefusesBeyondItsLimit() {
        var cache = InternalExpectationCache(limit: 1, options: SyncSenderOptions())
        let one = cache.record(Self.expectation(port: 1), kind: .new, now: ns(1))
        let two = cache.record(Self.expectation(port: 2), kind: .new, now: ns(1))
        #expect(one != nil && two == nil)
        #expect(cache.counters.createFailed == 1)
    }

    @Test func externalCacheAppliesNewUpdateDestroy() throws {
        var cache = ExternalExpectationCache(limit: 10)
        let x = try #require(SyncedExpectation(expectation: Self.expectation()))
        cache.apply(.expectationUpdate, x, now: ns(1)) // an unknown UPDATE creates
        #expect(cache.entries.count == 1 && cache.counters.created == 1)
        var refreshed = x
        refreshed.timeout = 10
        cache.apply(.expectationUpdate, refreshed, now: ns(2))
        #expect(cache.entries.count == 1 && cache.entries.values.first?.synced.timeout == 10)
        // Changed flags make another expectation, as in conntrackd.
        var flagged = x
        flagged.flags = 1
        cache.apply(.expectationUpdate, flagged, now: ns(3))
        #expect(cache.entries.count == 2)
        cache.apply(.expectationDestroy, x, now: ns(4))
        cache.apply(.expectationDestroy, x, now: ns(4))
        #expect(cache.entries.count == 1 && cache.counters.destroyed == 1 && cache.counters.destroyFailed == 1)
    }

    @Test func externalCacheRefusesBeyondItsLimit() throws {
        var cache = ExternalExpectationCache(limit: 1)
        cache.apply(.expectationNew, try #require(SyncedExpectation(expectation: Self.expectation(port: 1))), now: ns(1))
        cache.apply(.expectationNew, try #require(SyncedExpectation(expectation: Self.expectation(port: 2))), now: ns(1))
        #expect(cache.entries.count == 1 && cache.counters.createFailed == 1)
    }
}
