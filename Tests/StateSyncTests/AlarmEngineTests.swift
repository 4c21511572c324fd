import Conntrack
import StateSync
import Testing
import TestSupport
import Timekeeping

/// ALARM (spec §3.6): immediate sends, periodic refresh, no control messages.
@Suite struct AlarmEngineTests {
    typealias Engine = AlarmEngine<Int>
    static let second: UInt64 = 1_000_000_000

    static func body(_ key: Int) -> SyncMessage.Body { EngineTestFlows.body(key) }

    @Test func changesGoOutAtOnceAndAreRefreshedWithinRefreshTime() {
        var e = Engine(firstSequence: 1, refreshSeconds: 5, seed: 42)
        e.enqueue(1)
        let first = e.transmit(now: ns(0)) { (.flowUpdate, Self.body($0)) }
        #expect(first.count == 1 && first[0].flags.isEmpty)
        // Nothing else (no ALIVE) until the refresh timer, which lies in (1 s, 6 s).
        #expect(e.nextDeadline > ns(1 * Self.second) && e.nextDeadline < ns(6 * Self.second))
        var t: UInt64 = 0
        var refreshed: UInt64?
        while t < 7 * Self.second && refreshed == nil {
            t += 10_000_000
            e.fire(now: ns(t))
            if !e.transmit(now: ns(t), render: { (.flowUpdate, Self.body($0)) }).isEmpty { refreshed = t }
        }
        #expect(refreshed != nil)
        #expect(e.refreshes == 1)
    }

    @Test func destroyIsSentOnceAndReleased() {
        var e = Engine(firstSequence: 1, refreshSeconds: 2)
        e.enqueue(1)
        _ = e.transmit(now: ns(0)) { (.flowUpdate, Self.body($0)) }
        e.enqueue(1)
        let out = e.transmit(now: ns(1)) { (.flowDestroy, Self.body($0)) }
        #expect(out.map(\.type) == [.flowDestroy])
        #expect(e.takeReleased() == [1])
        e.fire(now: ns(10 * Self.second))
        #expect(e.transmit(now: ns(10 * Self.second)) { (.flowUpdate, Self.body($0)) }.isEmpty)
    }

    @Test func receiverIgnoresFlaggedMessagesAndCountsControl() {
        var e = Engine(firstSequence: 1)
        let data = SyncMessage(type: .flowNew, sequence: 5, body: Self.body(1))
        #expect(e.receive(data) == [.apply(data)])
        var hello = data
        hello.flags = .hello
        #expect(e.receive(hello).isEmpty)
        #expect(e.receive(.control(.alive(sequence: 6))).isEmpty)
        #expect(e.tracker.isSet == false)
    }
}
