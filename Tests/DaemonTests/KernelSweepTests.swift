import Conntrack
@testable import Daemon
import IPAddressing
import StateSync
import Testing
import TestSupport
import Timekeeping

/// A re-read of the kernel table (resync after an overrun, the dump after a quiet commit,
/// PollSecs) marks what it lists in the entries themselves; what it did not list is gone
/// from the kernel. The marks must not outlive the sweep that set them.
@Suite struct KernelSweepTests {
    static let now = Instant(nanoseconds: 5_000_000_000)

    static func flow(_ n: UInt16) -> Flow {
        var f = FlowFixtures.tcp
        f.original?.sourcePort = 20_000 + n
        f.reply = f.original?.inverted
        return f
    }

    static func filled(_ n: UInt16) -> InternalCache {
        var cache = InternalCache(limit: 100)
        for i in 0 ..< n { _ = cache.record(flow(i), kind: .new, now: now) }
        return cache
    }

    static func key(_ n: UInt16) -> FlowKey { FlowKey(flow(n).original!) }

    @Test func whatTheSweepDidNotListIsMarkedDeadAndReturned() {
        var cache = Self.filled(5)
        for i: UInt16 in [0, 2, 4] { _ = cache.record(Self.flow(i), kind: .update, now: Self.now, seenBySweep: true) }
        _ = cache.record(Self.flow(7), kind: .new, now: Self.now, seenBySweep: true)
        let gone = cache.markMissing()
        #expect(Set(gone) == [Self.key(1), Self.key(3)])
        #expect(cache.count == 6 && cache.deadCount == 2)
        #expect(cache.entries[Self.key(1)]?.state == .dead && cache.entries[Self.key(3)]?.state == .dead)
        #expect(cache.entries[Self.key(7)]?.state == .new && cache.entries[Self.key(0)]?.state == .alive)
        // The marks went with that sweep: the next one, listing nothing, finds every live entry gone.
        #expect(Set(cache.markMissing()) == [Self.key(0), Self.key(2), Self.key(4), Self.key(7)])
        #expect(cache.markMissing().isEmpty)
    }

    /// A dead entry the kernel lists again is alive and kept.
    @Test func aListedDeadEntryComesBack() {
        var cache = Self.filled(2)
        _ = cache.record(Self.flow(1), kind: .destroy, now: Self.now)
        _ = cache.record(Self.flow(0), kind: .update, now: Self.now, seenBySweep: true)
        _ = cache.record(Self.flow(1), kind: .new, now: Self.now, seenBySweep: true)
        #expect(cache.markMissing().isEmpty)
        #expect(cache.deadCount == 0 && cache.entries[Self.key(1)]?.state == .new)
    }

    /// The mark shares the byte of state and FTFW place and disturbs neither.
    @Test func theMarkLeavesStateAndPlaceAlone() throws {
        var cache = Self.filled(1)
        let i = try #require(cache.entries.index(forKey: Self.key(0)))
        cache.setPlace(.awaitingAcknowledgement(77), at: i)
        _ = cache.record(Self.flow(0), kind: .update, now: Self.now, seenBySweep: true)
        #expect(cache.entries[valueAt: i].seenBySweep)
        #expect(cache.entries[valueAt: i].state == .alive && cache.entries[valueAt: i].place == .awaitingAcknowledgement(77))
        // A changed flow is queued for the peer while the sweep goes on: its mark stays.
        cache.setPlace(.queued, at: i)
        #expect(cache.entries[valueAt: i].seenBySweep && cache.entries[valueAt: i].place == .queued)
        #expect(cache.markMissing().isEmpty)
        #expect(!cache.entries[valueAt: i].seenBySweep && cache.entries[valueAt: i].place == .queued)
    }

    /// The re-read compares packed flows as they are: it must find a change exactly where
    /// the comparison of whole flows does, for every fixture and every field it looks at.
    @Test func packedComparisonAgreesWithWholeFlows() {
        var variants: [Flow] = []
        for f in FlowFixtures.flows {
            variants.append(f)
            var s = f; s.status = [.confirmed]; variants.append(s)
            var n = f; n.status = nil; variants.append(n)
            var m = f; m.mark = 7; variants.append(m)
            var t = f
            if case .tcp(var info)? = f.protocolInfo { info.state = .timeWait; t.protocolInfo = .tcp(info) }
            variants.append(t)
            var r = f; r.reply?.destinationPort = 61_001; variants.append(r)
        }
        var packedPairs = 0
        for a in variants {
            for b in variants {
                let x = CompactFlow(a), y = CompactFlow(b)
                if case .packed = x, case .packed = y { packedPairs += 1 }
                #expect(ConntrackdDaemon.changed(x, y) == ConntrackdDaemon.changed(x.flow, y.flow))
            }
        }
        #expect(packedPairs > 100)
    }

    /// A sweep whose dump failed part way marks nothing dead, and leaves no mark behind
    /// that would let a later sweep keep an entry it did not list.
    @Test func anAbandonedSweepLeavesNoMarks() {
        var cache = Self.filled(3)
        _ = cache.record(Self.flow(0), kind: .update, now: Self.now, seenBySweep: true)
        cache.abandonSweep()
        #expect(cache.deadCount == 0)
        _ = cache.record(Self.flow(1), kind: .update, now: Self.now, seenBySweep: true)
        #expect(Set(cache.markMissing()) == [Self.key(0), Self.key(2)])
    }
}
