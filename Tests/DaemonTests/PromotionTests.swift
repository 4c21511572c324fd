#if canImport(Glibc)
import Glibc
#endif
import TestSupport
@testable import Daemon
import Timekeeping
import Testing

/// The promotion's order is the product's promise: the kernel holds the replicated flows
/// before the unit announces itself, and the table goes to the peer only after that.
@Suite struct PromotionTests {
    /// Records what each side was asked to do, in one shared order.
    final class Record {
        var steps: [String] = []
        var now = Instant(nanoseconds: 1_000_000_000)
    }

    final class FakeKernel: PromotionReplication {
        let record: Record
        var outcome = Promotion.CommitOutcome(succeeded: 7, failed: 1, duration: .microseconds(2_340))
        init(_ record: Record) { self.record = record }
        func commitForPromotion(now: Instant) -> Promotion.CommitOutcome {
            record.steps.append("commit")
            record.now += .milliseconds(2)
            return outcome
        }
        func sendTable(reconcileAfter: Duration, now: Instant) {
            record.steps.append("sendTable(\(reconcileAfter.wholeSeconds))")
        }
    }

    final class FakeVRRP: PromotionAnnouncer {
        let record: Record
        var stillMaster = true
        init(_ record: Record) { self.record = record }
        func announceUnit(_ unit: String) -> Bool {
            record.steps.append("announce \(unit)")
            record.now += .microseconds(500)
            return stillMaster
        }
    }

    func drive(_ kernel: FakeKernel, _ vrrp: FakeVRRP, _ record: Record) -> [String] {
        var lines: [String] = []
        PromotionDriver.run(unit: "G1", clock: { record.now }, replication: kernel, vrrp: vrrp) { lines.append($0) }
        return lines
    }

    @Test func commitComesBeforeTheAnnouncementAndTheTableAfter() {
        let record = Record()
        let lines = drive(FakeKernel(record), FakeVRRP(record), record)
        #expect(record.steps == ["commit", "announce G1", "sendTable(1)"])
        #expect(lines == [
            "(G1) master actions: committed 7 flows (1 failed) in 2.3 ms; caches flushed, internal cache holds what was committed",
            "(G1) addresses added and announced 2.5 ms after the transition",
            "(G1) bulk send queued; kernel table reconciled in 1 s; all master actions done 2.5 ms after the transition",
        ])
    }

    @Test func aFailedCommitIsReportedAndTheUnitStillAnnounces() {
        let record = Record()
        let kernel = FakeKernel(record)
        kernel.outcome = .init(error: "netlink: No buffer space available", peerTableIncomplete: true)
        let lines = drive(kernel, FakeVRRP(record), record)
        #expect(record.steps == ["commit", "announce G1", "sendTable(1)"])
        #expect(lines.first == "(G1) master actions: commit failed: netlink: No buffer space available (the peer's table had not fully arrived); "
            + "external cache kept for another commit")
    }

    @Test func aUnitThatLeftMasterSendsNothingAsMaster() {
        let record = Record()
        let vrrp = FakeVRRP(record)
        vrrp.stillMaster = false
        let lines = drive(FakeKernel(record), vrrp, record)
        #expect(record.steps == ["commit", "announce G1"])
        #expect(lines.last == "(G1) left MASTER before announcing itself: no bulk send")
    }

    /// The value refuses steps out of order: a second commit report or an early
    /// announcement changes nothing.
    @Test func stepsOutOfOrderAreIgnored() {
        var p = Promotion(unit: "VI_1", now: ns(0))
        #expect(p.start() == [.commit])
        #expect(p.announced(now: ns(5)).isEmpty)
        #expect(p.abandoned().isEmpty)
        #expect(p.step == .commit)
        let next = p.committed(.init())
        #expect(next.last == .announce)
        #expect(p.committed(.init()).isEmpty)
        #expect(p.announced(now: ns(1_000_000)).contains(.sendTable(reconcileAfter: .seconds(1))))
        #expect(p.step == .done)
        #expect(p.announced(now: ns(2_000_000)).isEmpty)
    }
}

/// What an operator reads after a commit the kernel partly refused.
@Suite struct CommitReportTests {
    @Test func failuresAreNamedByCauseMostFrequentFirst() {
        var report = CommitReport(flows: 200, succeeded: 77, failed: 123, duration: .zero)
        report.failuresByErrno = [EINVAL: 3, ENOMEM: 120]
        #expect(report.failureCauses == "120 ENOMEM (the conntrack table is full: nf_conntrack_max), 3 EINVAL (Invalid argument)")
        report.failuresByErrno = [:]
        #expect(report.failureCauses == "")
    }
}
