import Daemon
import Testing

/// When the peer's table counts as arrived, from the order of what the peer sends.
struct ResyncProgressTests {
    @Test func theTickAfterTheAcknowledgementCompletes() {
        var p = ResyncProgress()
        p.requested(now: 0)
        #expect(p.isWaiting)
        let early = p.receivedTick(now: 1)
        #expect(!early, "a tick before the acknowledgement may predate the request")
        p.requestAcknowledged()
        let done = p.receivedTick(now: 2)
        #expect(done)
        #expect(p.isComplete && p.nextRequest == nil)
    }

    @Test func withoutAcknowledgementsTheSecondTickCompletes() {
        var p = ResyncProgress(acknowledgements: false)
        p.requested(now: 0)
        let first = p.receivedTick(now: 1)
        let second = p.receivedTick(now: 2)
        #expect(!first && second)
    }

    @Test func aRepeatedRequestNeedsItsOwnAcknowledgement() {
        var p = ResyncProgress(repeatInterval: 5)
        p.requested(now: 0)
        #expect(p.nextRequest == 5)
        p.requestAcknowledged()
        p.requested(now: 5)
        #expect(p.nextRequest == 10)
        let tick = p.receivedTick(now: 6)
        #expect(!tick)
        p.requestAcknowledged()
        let done = p.receivedTick(now: 7)
        #expect(done)
    }

    @Test func nothingRequestedNothingAwaited() {
        var p = ResyncProgress()
        p.requestAcknowledged()
        let tick = p.receivedTick(now: 1)
        #expect(!tick)
        #expect(!p.isWaiting && !p.isComplete)
        p.requested(now: 2)
        p.settle(now: 3)
        #expect(p.isComplete && !p.isWaiting)
    }
}

/// A silent peer is reported once, and once again when it comes back.
struct PeerLivenessTests {
    @Test func silenceAndReturnAreReportedOnce() {
        var p = PeerLiveness(threshold: 5, now: 0)
        let early = p.check(now: 4)
        #expect(early == nil)
        let silent = p.check(now: 6)
        #expect(silent == .fellSilent(for: 6))
        let again = p.check(now: 9)
        #expect(again == nil)
        #expect(p.deadline == .max)
        let back = p.heard(now: 10)
        #expect(back == .heardAgain(after: 10))
        let steady = p.heard(now: 11)
        #expect(steady == nil)
        #expect(p.deadline == 16)
    }
}
