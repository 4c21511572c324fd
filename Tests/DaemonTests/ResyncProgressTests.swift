import Daemon
import Testing
import TestSupport
import Timekeeping

/// When the peer's table counts as arrived, from the order of what the peer sends.
struct ResyncProgressTests {
    @Test func theTickAfterTheAcknowledgementCompletes() {
        var p = ResyncProgress()
        p.requested(now: ns(0))
        #expect(p.isWaiting)
        let early = p.receivedTick(now: ns(1))
        #expect(!early, "a tick before the acknowledgement may predate the request")
        p.requestAcknowledged()
        let done = p.receivedTick(now: ns(2))
        #expect(done)
        #expect(p.isComplete && p.nextRequest == nil)
    }

    @Test func withoutAcknowledgementsTheSecondTickCompletes() {
        var p = ResyncProgress(acknowledgements: false)
        p.requested(now: ns(0))
        let first = p.receivedTick(now: ns(1))
        let second = p.receivedTick(now: ns(2))
        #expect(!first && second)
    }

    @Test func aRepeatedRequestNeedsItsOwnAcknowledgement() {
        var p = ResyncProgress(repeatInterval: .nanoseconds(5))
        p.requested(now: ns(0))
        #expect(p.nextRequest == ns(5))
        p.requestAcknowledged()
        p.requested(now: ns(5))
        #expect(p.nextRequest == ns(10))
        let tick = p.receivedTick(now: ns(6))
        #expect(!tick)
        p.requestAcknowledged()
        let done = p.receivedTick(now: ns(7))
        #expect(done)
    }

    @Test func nothingRequestedNothingAwaited() {
        var p = ResyncProgress()
        p.requestAcknowledged()
        let tick = p.receivedTick(now: ns(1))
        #expect(!tick)
        #expect(!p.isWaiting && !p.isComplete)
        p.requested(now: ns(2))
        p.settle(now: ns(3))
        #expect(p.isComplete && !p.isWaiting)
    }
}

/// A silent peer is reported once, and once again when it comes back.
struct PeerLivenessTests {
    @Test func silenceAndReturnAreReportedOnce() {
        var p = PeerLiveness(threshold: .nanoseconds(5), now: ns(0))
        let early = p.check(now: ns(4))
        #expect(early == nil)
        let silent = p.check(now: ns(6))
        #expect(silent == .fellSilent(for: .nanoseconds(6)))
        let again = p.check(now: ns(9))
        #expect(again == nil)
        #expect(p.deadline == .never)
        let back = p.heard(now: ns(10))
        #expect(back == .heardAgain(after: .nanoseconds(10)))
        let steady = p.heard(now: ns(11))
        #expect(steady == nil)
        #expect(p.deadline == ns(16))
    }
}
