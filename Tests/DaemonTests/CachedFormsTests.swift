import Conntrack
@testable import Daemon
import StateSync
import TestSupport
import Testing
import Timekeeping
import IPAddressing

/// The caches' packed forms must give back exactly what was stored: listings, commits and
/// sent messages are built from them.
struct CachedFormsTests {
    @Test(arguments: FlowFixtures.flows) func internalFormGivesTheFlowBack(_ f: Flow) {
        #expect(CompactFlow(f).flow == f)
    }

    /// The tables keep no key beside an entry: each derives the one it was filed under,
    /// packed or whole, from the flow it holds.
    @Test(arguments: FlowFixtures.flows) func entriesDeriveTheirKeys(_ f: Flow) throws {
        let now = Instant.now()
        var local = InternalCache(limit: 10)
        let recorded = local.record(f, kind: .new, now: now)
        let key = try #require(recorded)
        let i = try #require(local.entries.index(forKey: key))
        #expect(local.entries[valueAt: i].flowKey == key)
        #expect(local.entries[valueAt: i].isKeyed(by: key))
        let again = local.record(f, kind: .update, now: now)
        #expect(again == key)
        #expect(local.count == 1)
        var external = ExternalCache(limit: 10)
        let synced = SyncedFlow(flow: f)
        external.apply(.flowNew, synced, now: now)
        let o = try #require(synced.originalTuple)
        let j = try #require(external.entries.index(forKey: FlowKey(o)))
        #expect(external.entries[valueAt: j].flowKey == FlowKey(o))
        external.apply(.flowUpdate, synced, now: now)
        #expect(external.count == 1)
    }

    /// The sizes the per-flow memory figures rest on (the tables store these alone).
    @Test func entriesStaySmall() {
        #expect(MemoryLayout<FlowKey>.stride == 16)
        #expect(MemoryLayout<InternalCache.Entry>.stride == 64)
        #expect(MemoryLayout<ExternalCache.Entry>.stride == 40)
        // What a table stores per flow: the entry, no key beside it.
        #expect(MemoryLayout<FlowTable<InternalCache.Entry>.Entry>.stride == 64)
        #expect(MemoryLayout<FlowTable<ExternalCache.Entry>.Entry>.stride == 40)
        // Every queue of the sync engine holds one per flow in flight.
        #expect(MemoryLayout<SyncObjectKey>.stride <= 24)
    }

    /// The sender builds messages from the packed form directly: the same message.
    @Test(arguments: FlowFixtures.flows) func packedMessageIsTheFlowsMessage(_ f: Flow) {
        for options in [SyncSenderOptions(), SyncSenderOptions(includeTimeout: false, windowTracking: true),
                        SyncSenderOptions(includeTimeout: true, windowTracking: true)] {
            #expect(CompactFlow(f).synced(options: options) == SyncedFlow(flow: f, options: options))
        }
    }

    @Test func commonFlowsArePacked() {
        guard case .packed = CompactFlow(FlowFixtures.tcp) else { Issue.record("TCP flow not packed"); return }
        guard case .packed = CompactSyncedFlow(SyncedFlow(flow: FlowFixtures.tcp)) else { Issue.record("synced TCP flow not packed"); return }
    }

    @Test(arguments: FlowFixtures.flows) func externalFormGivesTheMessageBack(_ f: Flow) {
        for options in [SyncSenderOptions(), SyncSenderOptions(includeTimeout: false, windowTracking: true)] {
            let s = SyncedFlow(flow: f, options: options)
            #expect(CompactSyncedFlow(s).synced == s)
        }
        var partial = SyncedFlow()
        partial.source = .v4(1)
        partial.destination = .v4(2)
        partial.icmpID = 9
        #expect(CompactSyncedFlow(partial).synced == partial)
    }

    @Test(arguments: FlowFixtures.flows) func keysCompareAsTheirTuples(_ f: Flow) {
        let o = f.original!
        let key = FlowKey(o)
        #expect(FlowKey(key.tuple) == key)
        var other = o
        other.sourcePort = o.sourcePort.map { $0 &+ 1 } ?? 1
        if !o.isICMP { #expect(FlowKey(other) != key) }
        var zoned = o
        zoned.zone = 9
        #expect(FlowKey(zoned) == key, "zones are not part of the identity")
        #expect(FlowKey(zoned).hashValue == key.hashValue)
    }
}
