import StateSync
import Testing
import TestSupport
import Timekeeping

/// The receiver's gap repair (see `GapRepair`): a second NACK per gap, then a resync
/// request once the link is quiet, rate-limited, with a virtual clock.
@Suite struct GapRepairTests {
    static let ms: UInt64 = 1_000_000
    static let s: UInt64 = 1_000_000_000

    static func range(_ a: UInt32, _ b: UInt32) -> ClosedRangeOfSequences { ClosedRangeOfSequences(from: a, to: b) }

    static func resyncs(_ actions: [GapRepair.Action]) -> Int {
        actions.filter { if case .requestResync = $0 { true } else { false } }.count
    }

    @Test func aGapIsNackedAgainThenEndsInOneResync() {
        var r = GapRepair()
        #expect(r.nextDeadline == nil)
        r.gap(Self.range(100, 199), now: ns(0))
        #expect(r.fire(now: ns(249 * Self.ms)).isEmpty)
        #expect(r.nextDeadline == ns(250 * Self.ms))
        #expect(r.fire(now: ns(250 * Self.ms)) == [.nack(Self.range(100, 199))])
        // The second NACK goes once; the resync waits for a quiet second after the gap.
        #expect(r.fire(now: ns(999 * Self.ms)).isEmpty)
        let actions = r.fire(now: ns(1 * Self.s))
        #expect(Self.resyncs(actions) == 1)
        if case .requestResync(let reason) = actions.first {
            #expect(reason.gaps == 1 && reason.messages == 100 && reason.jumps == 0)
            #expect(reason.description.contains("100 message(s) missing"))
        }
        #expect(r.fire(now: ns(100 * Self.s)).isEmpty)
        #expect(r.nextDeadline == nil)
        let k = r.counters
        #expect(k.gaps == 1 && k.messagesLost == 100 && k.jumps == 0 && k.renacksSent == 1 && k.renacksSkipped == 0)
        #expect(k.resyncRequests == 1 && k.messagesCoveredByResync == 100)
    }

    /// Gaps every 100 ms forever (a lossy link): the resync is not put off past the
    /// deferral bound, and later ones back off 5, 10, 20, 40, 60, 60 s apart.
    @Test func aLossyLinkGetsRateLimitedResyncsNotAStorm() {
        var r = GapRepair(configuration: .init(renacks: false))
        var times: [UInt64] = []
        var t: UInt64 = 0
        var seq: UInt32 = 0
        while t <= 300 * Self.s {
            r.gap(Self.range(seq, seq + 2), now: ns(t))
            seq += 10
            if Self.resyncs(r.fire(now: ns(t))) > 0 { times.append(t) }
            t += 100 * Self.ms
        }
        #expect(times.first == 5 * Self.s)
        let spacing = zip(times.dropFirst(), times).map { ($0 - $1) / Self.s }
        #expect(spacing == [5, 10, 20, 40, 60, 60, 60])
        #expect(r.counters.renacksSent == 0)
    }

    /// After a long quiet spell the spacing starts again from the minimum.
    @Test func theBackOffResetsAfterAQuietMinute() {
        var r = GapRepair()
        r.gap(Self.range(1, 1), now: ns(0))
        #expect(Self.resyncs(r.fire(now: ns(1 * Self.s))) == 1)
        r.gap(Self.range(5, 5), now: ns(2 * Self.s))
        #expect(Self.resyncs(r.fire(now: ns(3 * Self.s))) == 0)
        #expect(Self.resyncs(r.fire(now: ns(6 * Self.s))) == 1)
        r.gap(Self.range(9, 9), now: ns(200 * Self.s))
        #expect(Self.resyncs(r.fire(now: ns(201 * Self.s))) == 1)
    }

    /// A jump no resend queue could hold is a jump, not billions of lost messages.
    @Test func aHugeJumpIsCountedApartAndResynced() {
        var r = GapRepair()
        r.gap(Self.range(10, 10 + (1 << 30)), now: ns(0))
        #expect(r.counters.messagesLost == 0 && r.counters.jumps == 1 && r.counters.gaps == 0)
        let actions = r.fire(now: ns(1 * Self.s))
        #expect(actions.count == 1 && Self.resyncs(actions) == 1)
    }

    @Test func disabledDoesNothingButCount() {
        var r = GapRepair(configuration: .init(enabled: false))
        r.gap(Self.range(1, 10), now: ns(0))
        #expect(r.nextDeadline == nil && r.fire(now: ns(100 * Self.s)).isEmpty)
        #expect(r.counters.messagesLost == 10)
    }

    @Test func pendingSecondNacksAreBoundedAndTheSkippedCounted() {
        var r = GapRepair(configuration: .init(pendingRenackLimit: 2))
        for i in UInt32(0) ..< 5 { r.gap(Self.range(i * 10, i * 10 + 1), now: ns(0)) }
        #expect(r.counters.renacksSkipped == 3)
        let actions = r.fire(now: ns(250 * Self.ms))
        #expect(actions == [.nack(Self.range(0, 1)), .nack(Self.range(10, 11))])
    }

    /// The tracker counts the true number missing, and a forged jump apart.
    @Test func trackerCountsTrulyAndNeverAddsJumps() {
        var t = SequenceTracker()
        t.accept(100)
        #expect(t.classify(105) == .after)
        t.accept(105)
        #expect(t.lost == 4 && t.gaps == 1)
        #expect(t.classify(105 &+ 0x7fff_0000) == .after)
        t.accept(105 &+ 0x7fff_0000)
        #expect(t.lost == 4 && t.jumps == 1)
    }
}
