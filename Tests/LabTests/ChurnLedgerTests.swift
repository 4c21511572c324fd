@testable import Lab
import Testing

/// The soak's churn bookkeeping. A flow too young to judge that the new master lacks at
/// the check is excused from judgement, yet still deleted when its lifetime ends: in a
/// failback it arrives a moment after the check, and a flow the churn stopped deleting
/// stayed in the tables for good (the stale flows the 2026-12-04 soak saw growing).
@Suite struct ChurnLedgerTests {
    /// Flows 0..<10 born at t = 0 (old enough at a check at t = 5), flow 10 at t = 4.9.
    static func ledger() -> ChurnLedger {
        var l = ChurnLedger(capacity: 64, lifetime: 5)
        _ = l.create(10, at: 0)
        _ = l.create(1, at: 4.9)
        return l
    }

    static func presence(_ keys: [Int]) -> ChurnPresence {
        var p = ChurnPresence()
        for k in keys { p.insert(k) }
        return p
    }

    static func check(_ l: inout ChurnLedger, present keys: [Int], at pausedAt: Double) -> LossCheck {
        l.judge(present: presence(keys), churnFlows: keys.count, kernelFlows: keys.count, pausedAt: pausedAt, minAge: 1)
    }

    @Test func aYoungAbsentFlowIsExcusedButStillDeleted() {
        var l = Self.ledger()
        let first = Self.check(&l, present: Array(0..<10), at: 5)
        #expect(first.diedYoung == 1)
        #expect(first.atRisk == 10)
        #expect(first.lost == 0)
        #expect(l.isExcused(10))
        // Its lifetime ends at 9.9: the churn deletes it then like any other flow.
        #expect(l.due(now: 9.8, most: 100) == Array(0..<10))
        #expect(l.due(now: 10, most: 100) == [10])
    }

    /// It arrived after the check (the old master's message in flight): at the next check,
    /// within its lifetime, it is live (neither stale nor judged); after its delete, a table
    /// still holding it counts it stale, and one without it does not.
    @Test func aLateArrivalIsLiveUntilDeletedThenStaleOnlyIfStillThere() {
        var l = Self.ledger()
        _ = Self.check(&l, present: Array(0..<10), at: 5)
        let late = Self.check(&l, present: Array(0..<11), at: 6)
        #expect(late.stale == 0)
        #expect(late.lost == 0)
        #expect(late.atRisk == 10)
        _ = l.due(now: 10, most: 100)
        #expect(Self.check(&l, present: [10], at: 11).stale == 1)
        #expect(Self.check(&l, present: [], at: 11).stale == 0)
    }

    /// An excused flow is not judged lost at a later check (a quick failback), even once
    /// old enough.
    @Test func anExcusedFlowIsNeverJudgedLost() {
        var l = Self.ledger()
        _ = Self.check(&l, present: Array(0..<10), at: 5)
        let next = Self.check(&l, present: Array(0..<10), at: 7)
        #expect(next.lost == 0)
        #expect(next.atRisk == 10)
        #expect(next.diedYoung == 0)
    }

    /// The controls: an old flow the table lacks is lost (the check can fail), and a flow
    /// whose creation failed is neither judged nor deleted (`due` can leave a flow out).
    @Test func controlAnOldAbsentFlowIsLostAndAFailedCreationIsNotDeleted() {
        var l = Self.ledger()
        let c = Self.check(&l, present: Array(1..<11), at: 5)
        #expect(c.lost == 1)
        #expect(c.examples.first?.hasPrefix("0 (") == true)
        #expect(c.diedYoung == 0)
        #expect(!l.isExcused(0))

        var failed = Self.ledger()
        failed.creationFailed(10)
        let f = Self.check(&failed, present: Array(0..<10), at: 5)
        #expect(f.diedYoung == 0)
        #expect(failed.due(now: 20, most: 100) == Array(0..<10))
    }

    /// Stale flows are told apart by how long before the pause they were deleted.
    @Test func staleFlowsByDeletionAge() {
        var l = Self.ledger()
        _ = l.due(now: 5, most: 3)
        let c = Self.check(&l, present: Array(0..<11), at: 5.05)
        #expect(c.stale == 3)
        #expect(c.staleByAge == ["under 100 ms": 3])
    }
}
