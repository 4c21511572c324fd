import StateSync
import Testing
import TestSupport
import Timekeeping

/// The sender's unacknowledged-message limit follows the receiver's loss (`SendWindow`).
@Suite struct SendWindowTests {
    typealias Engine = FTFWEngine<Int>
    static let ms: UInt64 = 1_000_000

    @Test func aLossHalvesTheLimitOncePerRound() {
        var w = SendWindow(ceiling: 131_072, floor: 1_200)
        w.lost(through: 100, inFlight: 131_072, nextSequence: 131_073)
        #expect(w.limit == 65_536)
        // The same round's loss, reported again (another gap of it): no second cut.
        w.lost(through: 131_000, inFlight: 60_000, nextSequence: 140_000)
        #expect(w.limit == 65_536)
        #expect(w.cuts == 1)
        // Loss of a message sent after the cut is a new round.
        w.lost(through: 131_073, inFlight: 60_000, nextSequence: 200_000)
        #expect(w.limit == 30_000)
        #expect(w.cuts == 2)
    }

    @Test func theLimitNeverFallsBelowItsFloorAndGrowsBackToTheCeiling() {
        var w = SendWindow(ceiling: 10_000, floor: 1_200)
        var next: UInt32 = 1
        for _ in 0..<10 {
            w.lost(through: next, inFlight: w.limit, nextSequence: next &+ 1)
            next &+= 2
        }
        #expect(w.limit == 1_200)
        var acknowledged = 0
        while w.limit < 10_000 && acknowledged < 1_000_000 {
            w.acknowledged(300)
            acknowledged += 300
        }
        #expect(w.limit == 10_000)
        // An eighth per full limit acknowledged: about 15 rounds from 1,200 back to 10,000.
        #expect(acknowledged > 30_000)
    }

    @Test func sequenceNumbersWrap() {
        var w = SendWindow(ceiling: 8_000, floor: 1_000)
        w.lost(through: UInt32.max - 10, inFlight: 8_000, nextSequence: 5)
        #expect(w.limit == 4_000)
        w.lost(through: UInt32.max - 5, inFlight: 4_000, nextSequence: 50)
        #expect(w.limit == 4_000)
        w.lost(through: 6, inFlight: 4_000, nextSequence: 60)
        #expect(w.limit == 2_000)
    }

    struct Outcome {
        var arrived: Int
        /// Messages the receiver's socket buffer had no room for.
        var dropped: Int
        var cuts: Int
    }

    /// A sends `flows` objects at once to B. The link delivers after 1 ms into B's socket
    /// buffer, which holds `capacity` messages (the rest of an arrival is dropped, as a
    /// UDP receive buffer drops); B takes `rate` messages a millisecond out of it, except
    /// during `stall` (a long commit of its own). Runs until B has everything or 60 s.
    static func bulk(flows: Int, configuration: Engine.Configuration, capacity: Int, rate: Int,
                     stalls: [Range<UInt64>]) -> Outcome {
        var a = Engine(configuration: configuration, firstSequence: 1, now: ns(0))
        var b = Engine(configuration: .init(ackWindowSize: configuration.ackWindowSize), firstSequence: 900_000_000, now: ns(0))
        var toB: [SyncMessage] = []
        var toA: [SyncMessage] = []
        var socket: [SyncMessage] = []
        var socketHead = 0
        var dropped = 0
        var external = Set<Int>()
        let render: (Int) -> (SyncMessageType, SyncMessage.Body)? = { (.flowUpdate, EngineTestFlows.body($0)) }
        var now = EngineTestFlows.settle(&a, &b)
        let start = now
        for k in 0..<flows { a.enqueue(k) }
        let end = now + 60_000 * ms
        while now < end && external.count < flows {
            a.fire(now: ns(now))
            b.fire(now: ns(now))
            let arriving = toB
            let acks = toA
            toB = a.transmit(now: ns(now), render: render)
            toA = b.transmit(now: ns(now)) { _ in nil }
            for m in arriving {
                if socket.count - socketHead < capacity { socket.append(m) } else { dropped += 1 }
            }
            if !stalls.contains(where: { $0.contains((now - start) / ms) }) {
                let take = min(rate, socket.count - socketHead)
                for m in socket[socketHead ..< socketHead + take] {
                    for e in b.receive(m) {
                        if case .apply(let msg) = e, case .flow(let f) = msg.body, case .v4(let v)? = f.source {
                            external.insert(Int(v & 0xff_ffff))
                        }
                    }
                }
                socketHead += take
                if socketHead > 100_000 { socket.removeFirst(socketHead); socketHead = 0 }
            }
            for m in acks { _ = a.receive(m) }
            _ = a.takeReleased()
            now += ms
        }
        return Outcome(arrived: external.count, dropped: dropped, cuts: a.sendWindow.cuts)
    }

    /// 100k flows, a resend queue of 32,768, into a receiver whose buffer holds 8,000
    /// messages and which stalls for 300 ms three times: after the first loss the sender
    /// keeps what it has in flight nearer to what fits, so the later stalls lose less. The
    /// control, without the backoff, keeps the whole queue in flight and loses as much at
    /// every stall.
    @Test func theWindowKeepsABusyReceiversLossDown() {
        let stalls: [Range<UInt64>] = [200 ..< 500, 1200 ..< 1500, 2200 ..< 2500]
        let adaptive = Self.bulk(flows: 100_000, configuration: .init(resendQueueSize: 32_768), capacity: 8_000, rate: 100, stalls: stalls)
        let fixed = Self.bulk(flows: 100_000, configuration: .init(resendQueueSize: 32_768, lossBackoff: false), capacity: 8_000, rate: 100, stalls: stalls)
        #expect(adaptive.arrived == 100_000)
        #expect(fixed.arrived == 100_000)
        #expect(adaptive.cuts > 0)
        #expect(fixed.cuts == 0)
        #expect(fixed.dropped > 0)
        #expect(adaptive.dropped * 3 < fixed.dropped, "dropped \(adaptive.dropped) with the window, \(fixed.dropped) without")
    }
}
