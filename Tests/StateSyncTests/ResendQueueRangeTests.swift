import StateSync
import TestSupport
import Testing

/// The peer's ACK and NACK ranges against the resend queue, now that a range's walk
/// starts where the range does (a binary search) instead of at the queue's front. The
/// queue's sequences wrap past 2³² and have holes (objects queued again), and each
/// range's effect is checked against a plain model: every sent sequence in the range,
/// and nothing else.
@Suite struct ResendQueueRangeTests {
    typealias Engine = FTFWEngine<Int>
    static let first: UInt32 = .max - 9

    /// What was sent, by sequence: its key.
    static func send(_ e: inout Engine, at t: UInt64) -> [UInt32: Int] {
        var sent: [UInt32: Int] = [:]
        e.transmit(now: ns(t), render: { k in (.flowDestroy, FTFWEngineTests.flowBody(k, version: 1)) }) { m in
            if case .flow(let f) = m.body, case .v4(let a)? = f.source { sent[m.sequence] = Int(a & 0xff) }
        }
        return sent
    }

    static func queued(_ e: Engine) -> [UInt32] { e.resendQueueEntries.filter { $0.control == nil }.map(\.sequence) }

    @Test func rangesTakeExactlyTheirSequences() {
        var e = Engine(configuration: .compatible(), firstSequence: Self.first, now: ns(0))
        for k in 0..<40 { e.enqueue(k) }
        var waiting = Self.send(&e, at: 0)
        #expect(waiting.count == 40)
        // Objects 3 and 20 change: their first transmissions leave holes in the queue.
        for k in [3, 20] { e.enqueue(k) }
        waiting = waiting.filter { $0.value != 3 && $0.value != 20 }
        waiting.merge(Self.send(&e, at: 1)) { a, _ in a }
        #expect(Self.queued(e) == waiting.keys.sorted { ($0 &- Self.first) < ($1 &- Self.first) })

        var peerSequence: UInt32 = 500
        // (from, to) offsets from the first sequence: across the wrap, in the middle, over
        // a hole, starting before the front, beyond the back, and one sequence wide.
        let acks: [(Int64, Int64)] = [(12, 15), (8, 11), (-100, 2), (19, 21), (45, 60), (30, 30), (5, 5), (41, 41)]
        for (lo, hi) in acks {
            let r = ClosedRangeOfSequences(from: UInt32(truncatingIfNeeded: Int64(Self.first) + lo),
                                           to: UInt32(truncatingIfNeeded: Int64(Self.first) + hi))
            let expected = waiting.filter { r.contains($0.key) }
            peerSequence += 1
            _ = e.receive(SyncMessage.control(.ack(r.from, r.to, sequence: peerSequence)))
            #expect(Set(e.takeReleased()) == Set(expected.values), "ACK \(lo)...\(hi)")
            waiting = waiting.filter { !r.contains($0.key) }
            #expect(Set(Self.queued(e)) == Set(waiting.keys), "ACK \(lo)...\(hi)")
        }
        // The control: the ranges took 16 (4, 4, 3, 2 around the hole, 0, 1, 1, 1), not all.
        #expect(waiting.count == 24)

        // A NACK at the back retransmits exactly the objects sent in it.
        let back = ClosedRangeOfSequences(from: Self.first &+ 36, to: Self.first &+ 39)
        let nacked = waiting.filter { back.contains($0.key) }
        #expect(nacked.count == 4)
        peerSequence += 1
        _ = e.receive(SyncMessage.control(.nack(back.from, back.to, sequence: peerSequence)))
        #expect(Set(Self.send(&e, at: 2).values) == Set(nacked.values))
        #expect(e.counters.retransmitted == 4)
        // Beyond anything sent: nothing.
        peerSequence += 1
        _ = e.receive(SyncMessage.control(.nack(Self.first &+ 1000, Self.first &+ 1010, sequence: peerSequence)))
        #expect(Self.send(&e, at: 3).isEmpty)
        #expect(e.counters.retransmitted == 4)
    }
}
