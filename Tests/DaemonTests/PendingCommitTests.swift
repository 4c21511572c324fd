import Conntrack
@testable import Daemon
import Testing
import TestSupport
import Timekeeping

/// The flows a full table refused at commit: tried again as space frees, at a pace that
/// backs off while nothing fits, each for at most its own timeout.
struct PendingCommitTests {
    static func flow(timeout: UInt32) -> Flow {
        var f = FlowFixtures.tcp
        f.timeout = timeout
        return f
    }

    @Test func refusedFlowsAreRetriedUntilTheyFit() {
        var p = PendingCommit()
        let t0 = ns(1_000_000_000)
        p.refused([Self.flow(timeout: 60), Self.flow(timeout: 60), Self.flow(timeout: 60)], now: t0)
        #expect(p.count == 3 && p.nextAttempt == t0 + .seconds(1))
        #expect(p.due(now: t0 + .milliseconds(999)) == nil)
        let first = p.due(now: t0 + .seconds(1))
        #expect(first?.count == 3)
        // Nothing fit: the next attempt waits twice as long.
        p.attempted(stillRefused: [0, 1, 2], now: t0 + .seconds(1))
        #expect(p.nextAttempt == t0 + .seconds(3))
        p.attempted(stillRefused: [0, 1, 2], now: t0 + .seconds(3))
        #expect(p.nextAttempt == t0 + .seconds(7))
        // Two fit, one was refused for another reason: nothing left, none counted twice.
        #expect(p.due(now: t0 + .seconds(7))?.count == 3)
        p.attempted(stillRefused: [], dropped: 1, now: t0 + .seconds(7))
        #expect(p.count == 0 && p.nextAttempt == nil && p.committedLater == 2)
    }

    @Test func progressKeepsThePaceAndTheBackoffIsBounded() {
        var p = PendingCommit()
        p.refused((0..<4).map { _ in Self.flow(timeout: 3600) }, now: .zero)
        var now = Instant.zero
        for _ in 0..<10 {
            now = p.nextAttempt!
            _ = p.due(now: now)
            p.attempted(stillRefused: Set(0..<p.count), now: now)
        }
        #expect(p.nextAttempt == now + PendingCommit.longestRetry)
        _ = p.due(now: p.nextAttempt!)
        now = p.nextAttempt!
        p.attempted(stillRefused: [0], now: now)
        #expect(p.count == 1 && p.committedLater == 3 && p.nextAttempt == now + PendingCommit.firstRetry)
    }

    @Test func flowsPastTheirTimeoutAreDroppedAndCounted() {
        var p = PendingCommit()
        p.refused([Self.flow(timeout: 2), Self.flow(timeout: 100)], now: .zero)
        p.attempted(stillRefused: [0, 1], now: ns(1_000_000_000))
        // At 3 s the first flow would have expired in the kernel too.
        let flows = p.due(now: ns(3_000_000_000))
        #expect(flows?.count == 1 && flows?.first?.timeout == 100)
        #expect(p.expired == 1)
        p.refused([], now: ns(4_000_000_000))
        #expect(p.nextAttempt == nil)
    }

    @Test func aNewCommitOrAFlushReplacesWhatWaited() {
        var p = PendingCommit()
        p.refused([Self.flow(timeout: 60)], now: .zero)
        p.refused([Self.flow(timeout: 60), Self.flow(timeout: 60)], now: .zero)
        #expect(p.count == 2)
        p.cancel()
        #expect(p.count == 0 && p.nextAttempt == nil && p.due(now: ns(10_000_000_000)) == nil)
    }
}
