import Daemon
import Testing

/// When the peer's table counts as arrived, from the sequence of what the peer sends.
struct ResyncProgressTests {
    @Test func aliveAfterStateCompletes() {
        var p = ResyncProgress()
        p.requested(now: 0)
        #expect(p.isWaiting)
        p.receivedState()
        let r1 = p.receivedAlive(now: 10)
        #expect(r1)
        #expect(p.isComplete && p.nextRequest == nil)
    }

    @Test func aFirstAliveAloneMayPredateTheRequest() {
        var p = ResyncProgress()
        p.requested(now: 0)
        let r2 = p.receivedAlive(now: 1)
        #expect(!r2)
        #expect(p.isWaiting)
        let r3 = p.receivedAlive(now: 2)
        #expect(r3)
    }

    @Test func repeatsUntilCompleteKeepingEvidence() {
        var p = ResyncProgress(repeatInterval: 5)
        p.requested(now: 0)
        #expect(p.nextRequest == 5)
        p.receivedState()
        p.requested(now: 5)
        #expect(p.nextRequest == 10)
        let r4 = p.receivedAlive(now: 6)
        #expect(r4)
    }

    @Test func nothingRequestedNothingAwaited() {
        var p = ResyncProgress()
        p.receivedState()
        let r5 = p.receivedAlive(now: 1)
        #expect(!r5)
        #expect(!p.isWaiting && !p.isComplete)
        p.requested(now: 2)
        p.settle(now: 3)
        #expect(p.isComplete && !p.isWaiting)
    }
}
