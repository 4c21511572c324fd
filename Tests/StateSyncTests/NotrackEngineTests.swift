import Conntrack
import StateSync
import Testing
import TestSupport
import Timekeeping

/// NOTRACK (spec §3.5): best effort, no handshake, no acknowledgements.
@Suite struct NotrackEngineTests {
    typealias Engine = NotrackEngine<Int>

    static func body(_ key: Int) -> SyncMessage.Body { EngineTestFlows.body(key) }

    @Test func sendsOnceWithoutHandshakeAndForgets() {
        var e = Engine(firstSequence: 100, now: ns(0))
        e.enqueue(1)
        e.enqueue(2)
        e.enqueue(1)
        let out = e.transmit(now: ns(0)) { (.flowUpdate, Self.body($0)) }
        #expect(out.map(\.sequence) == [100, 101])
        #expect(out.allSatisfy { $0.flags.isEmpty })
        #expect(Set(e.takeReleased()) == [1, 2])
        #expect(e.transmit(now: ns(1)) { (.flowUpdate, Self.body($0)) }.isEmpty)
    }

    @Test func aliveEverySecondAndResyncIsRanged() {
        var e = Engine(firstSequence: 7, now: ns(0))
        e.fire(now: ns(1_000_000_000))
        e.requestResync()
        let out = e.transmit(now: ns(1_000_000_000)) { _ in nil }
        #expect(out == [.control(.alive(sequence: 7)), .control(.resync(sequence: 8))])
    }

    @Test func receiveRules() {
        var e = Engine(firstSequence: 1, now: ns(0))
        let data = SyncMessage(type: .flowNew, sequence: 10, body: Self.body(1))
        #expect(e.receive(data) == [.apply(data)])
        // A gap is counted and reported (the owner may ask for the table); an older
        // message is still applied.
        let later = SyncMessage(type: .flowNew, sequence: 20, body: Self.body(2))
        #expect(e.receive(later) == [.apply(later), .sequenceGap(ClosedRangeOfSequences(from: 11, to: 19))])
        #expect(e.tracker.lost == 9)
        let old = SyncMessage(type: .flowUpdate, sequence: 15, body: Self.body(3))
        #expect(e.receive(old) == [.apply(old)])
        // The old message moved the tracker back (as conntrackd's does): 16…20 now read as a gap.
        #expect(e.receive(.control(.resync(sequence: 21))) == [.resyncRequested, .sequenceGap(ClosedRangeOfSequences(from: 16, to: 20))])
        #expect(e.receive(.control(.alive(sequence: 22))) == [.peerAlive])
        let ack = SyncMessage.control(.ack(1, 2, sequence: 23))
        #expect(e.receive(ack) == [.malformed(ack)])
        #expect(e.malformedHeader == 1)
    }
}
