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
