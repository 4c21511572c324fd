import StateSync
import Testing
import TestSupport
import Timekeeping

/// A message the peer's ACKs have passed over is sent again once a reordered ACK would
/// have come (`passedOverWait`), unless the range is a wide NACK's worth of sequence
/// numbers: that one waits an alive interval, as a wide NACK is served once an interval,
/// so a forged ACK still buys no more than a NACK does.
@Suite struct PassedOverWaitTests {
    typealias Engine = FTFWEngine<Int>
    static let ms: UInt64 = 1_000_000

    /// `sent` objects out at once; the peer's ACKs start at `ackFrom`, then repeat at
    /// each of `at` (ms). Returns how many were sent again after each.
    static func resentAfter(sent: Int, ackFrom: UInt32, at times: [UInt64], wait: Duration = .milliseconds(200)) -> [Int] {
        var a = Engine(configuration: .init(ackWindowSize: 5, holdDataUntilHandshake: false, backPressure: false, passedOverWait: wait),
                       firstSequence: 1, now: ns(0))
        for k in 0 ..< sent { a.enqueue(k) }
        _ = a.transmit(now: ns(0)) { (.flowUpdate, EngineTestFlows.body($0)) }
        let last = UInt32(sent)
        var peer: UInt32 = 500
        func ack(at t: UInt64) {
            a.receiving(at: ns(t * ms))
            _ = a.receive(SyncMessage.control(.ack(ackFrom, last, sequence: peer)))
            peer += 1
        }
        ack(at: 0)
        return times.map { t in
            ack(at: t)
            return a.counters.passedOverRetransmissions
        }
    }

    @Test func aNarrowRangeGoesAgainAfterTheShortWait() {
        // 1 ... 9 passed over: nothing at 150 ms, all nine after 200.
        #expect(Self.resentAfter(sent: 20, ackFrom: 10, at: [150, 250]) == [0, 9])
    }

    /// The control: with the wait at the alive interval, the same range waits a second.
    @Test func withTheAliveIntervalAsTheWaitItWaitsASecond() {
        #expect(Self.resentAfter(sent: 20, ackFrom: 10, at: [150, 250, 1_000], wait: .seconds(1)) == [0, 0, 9])
    }

    @Test func aWideRangeWaitsAnAliveInterval() {
        // 1 ... 1,099 passed over: 1,098 sequence numbers apart, wider than a wide NACK.
        #expect(Self.resentAfter(sent: 1_200, ackFrom: 1_100, at: [250, 900, 1_000]) == [0, 0, 1_099])
    }
}
