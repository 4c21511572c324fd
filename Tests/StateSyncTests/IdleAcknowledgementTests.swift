import StateSync
import TestSupport
import Testing
import Timekeeping

/// Two Tandem peers, both acknowledging within 5 ms (the daemon's setting). Data is
/// acknowledged promptly; a bare ACK or ALIVE is not, or each side acknowledges the
/// other's ACK every 5 ms for as long as both run.
@Suite struct IdleAcknowledgementTests {
    typealias Engine = FTFWEngine<Int>
    static let ms: UInt64 = 1_000_000

    struct Pair {
        var a = Engine(configuration: .init(acknowledgementDelay: .milliseconds(5)), firstSequence: 100, now: ns(0))
        var b = Engine(configuration: .init(acknowledgementDelay: .milliseconds(5)), firstSequence: 1, now: ns(0))
        /// Every message sent, with its time in ms and its sender.
        var sent: [(ms: UInt64, fromA: Bool, message: SyncMessage)] = []

        /// Runs both engines a millisecond at a time over [from, to), each message arriving
        /// at once.
        mutating func run(from: UInt64, to: UInt64) {
            for t in from ..< to {
                let now = ns(t * IdleAcknowledgementTests.ms)
                a.fire(now: now)
                for m in a.transmit(now: now) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) } {
                    sent.append((t, true, m))
                    _ = b.receive(m)
                }
                b.fire(now: now)
                for m in b.transmit(now: now) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) } {
                    sent.append((t, false, m))
                    _ = a.receive(m)
                }
            }
        }
    }

    @Test func anIdlePairExchangesAMessageASecondEachWay() {
        var pair = Pair()
        pair.run(from: 0, to: 4_000)
        // The handshake is over by 1.1 s (both alive ticks at 1 s carry HELLO).
        let idle = pair.sent.filter { $0.ms >= 1_100 }
        // One alive tick a second each way (an ACK of the other's tick, or an ALIVE), at 2
        // and 3 s; at 5 ms per ACK of an ACK it was some 580.
        #expect(idle.count <= 6, "\(idle.count) messages in 2.9 idle seconds")
        #expect(idle.count >= 4, "the alive ticks must still go")
    }

    /// The control: data is still acknowledged within the delay, and so is a HELLO.
    @Test func dataAndHelloAreStillAcknowledgedWithinTheDelay() throws {
        var pair = Pair()
        pair.run(from: 0, to: 1_010)
        // The HELLO exchange on the first alive ticks: each side's HELLO_BACK went out
        // within 5 ms of the other's HELLO.
        let helloBacks = pair.sent.filter { $0.message.flags.contains(.helloBack) }
        #expect(Set(helloBacks.map(\.fromA)) == [true, false])
        #expect(helloBacks.allSatisfy { $0.ms >= 1_000 && $0.ms <= 1_006 }, "\(helloBacks.map(\.ms))")

        pair.run(from: 1_010, to: 2_000)
        for k in 0 ..< 3 { pair.a.enqueue(k) }
        pair.run(from: 2_000, to: 2_010)
        let data = pair.sent.filter { $0.fromA && $0.ms >= 2_000 && FTFWEngineTests.controls([$0.message]).isEmpty }
        #expect(data.count == 3)
        let last = try #require(data.last?.message.sequence)
        let acks = pair.sent.filter { !$0.fromA && $0.ms >= 2_000 }
            .compactMap { s in FTFWEngineTests.controls([s.message]).first.flatMap { $0.flags.contains(.ack) ? (s.ms, $0.range) : nil } }
        #expect(acks.contains { $0.0 <= 2_006 && $0.1?.to == last }, "\(acks)")
    }
}
