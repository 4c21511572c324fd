import Conntrack
import StateSync
import Testing
import TestSupport
import Timekeeping

/// A bulk send larger than the resend queue, into a receiver whose socket buffer
/// overflows (conntrackd 1.4.7 lost flows exactly this way): with back-pressure every
/// flow arrives; with conntrackd's drop-the-oldest the NACKed ones are gone for good.
@Suite struct ResendBackPressureTests {
    typealias Engine = FTFWEngine<Int>
    static let ms: UInt64 = 1_000_000

    struct Outcome {
        var arrived: Int
        var stalls: Int
        var overflows: Int
        var retransmitted: Int
        var virtualSeconds: UInt64
    }

    /// A sends `flows` objects at once to B over a link that delivers messages after 1 ms;
    /// B's socket buffer holds `bufferMessages` per millisecond and drops the rest, as a
    /// UDP receive buffer does under a burst. Runs until B has everything or 60 virtual s.
    static func bulk(flows: Int, configuration: Engine.Configuration, bufferMessages: Int) -> Outcome {
        var a = Engine(configuration: configuration, firstSequence: 1, now: ns(0))
        var b = Engine(configuration: .init(ackWindowSize: configuration.ackWindowSize), firstSequence: 900_000_000, now: ns(0))
        var toB: [SyncMessage] = []
        var toA: [SyncMessage] = []
        var external = Set<Int>()
        let render: (Int) -> (SyncMessageType, SyncMessage.Body)? = { (.flowUpdate, EngineTestFlows.body($0)) }
        var now = EngineTestFlows.settle(&a, &b)
        for k in 0..<flows { a.enqueue(k) }
        let end = now + 60_000 * ms
        while now < end && external.count < flows {
            a.fire(now: ns(now))
            b.fire(now: ns(now))
            let arriving = toB
            let acks = toA
            toB = a.transmit(now: ns(now), render: render)
            toA = b.transmit(now: ns(now)) { _ in nil }
            for m in arriving.prefix(bufferMessages) {
                for e in b.receive(m) {
                    if case .apply(let msg) = e, case .flow(let f) = msg.body, case .v4(let v)? = f.source {
                        external.insert(Int(v & 0xff_ffff))
                    }
                }
            }
            for m in acks { _ = a.receive(m) }
            _ = a.takeReleased()
            now += ms
        }
        return Outcome(arrived: external.count, stalls: a.counters.backPressureStalls, overflows: a.counters.resendQueueOverflows,
                       retransmitted: a.counters.retransmitted, virtualSeconds: now / 1000 / ms)
    }

    /// The figure: 250k flows, conntrackd's default ResendQueueSize of 131072.
    @Test func bulkLargerThanTheResendQueueLosesNothing() {
        let o = Self.bulk(flows: 250_000, configuration: .init(), bufferMessages: 20_000)
        #expect(o.arrived == 250_000, "arrived \(o.arrived) after \(o.virtualSeconds) s")
        #expect(o.overflows == 0)
        #expect(o.stalls > 0)
        #expect(o.retransmitted > 0)
    }

    /// The control: conntrackd's overflow rule on the same link loses flows for good.
    @Test func conntrackdOverflowRuleLosesFlows() {
        let o = Self.bulk(flows: 25_000, configuration: .compatible(resendQueueSize: 13_107), bufferMessages: 2_000)
        #expect(o.arrived < 25_000)
        #expect(o.overflows > 0)
    }

    /// Same shape at a tenth of the size, so the comparison with the control is direct.
    @Test func smallerBulkWithBackPressure() {
        let o = Self.bulk(flows: 25_000, configuration: .init(resendQueueSize: 13_107), bufferMessages: 2_000)
        #expect(o.arrived == 25_000)
        #expect(o.overflows == 0)
    }

    /// A resync answer larger than the resend queue: while back-pressure holds the table's
    /// end, our idle ticks (ACKs, ALIVEs) wait behind it, or the requester, which counts its
    /// table as arrived at the first tick after its request was acknowledged, would count it
    /// early. Control: held for twice the alive interval (the peer may be stalled on our
    /// ACKs: two nodes answering each other's resync), they go before the end.
    @Test(arguments: [UInt64(1_500), 2_500]) func aHeldTableEndHoldsTheIdleTicksBehindIt(stalledMilliseconds: UInt64) {
        var a = Engine(configuration: .init(ackWindowSize: 100, resendQueueSize: 8, holdDataUntilHandshake: false), firstSequence: 1, now: ns(0))
        let render: (Int) -> (SyncMessageType, SyncMessage.Body)? = { (.flowUpdate, EngineTestFlows.body($0)) }
        func isTick(_ m: SyncMessage) -> Bool {
            if case .control(let c) = m.body { !c.flags.isDisjoint(with: [.ack, .alive]) } else { false }
        }
        // The request arrives; the answer: its ACK, the table, the end.
        _ = a.receive(SyncMessage.control(.resync(sequence: 50)))
        a.acknowledgeReceived()
        for k in 0 ..< 20 { a.enqueue(k) }
        a.markEndOfTable()
        var out = a.transmit(now: ns(0), render: render)
        #expect(out.first.map(isTick) == true)
        // The ACK, which has a range, takes a place in the resend queue too.
        #expect(out.filter { $0.type == .flowUpdate }.count == 7)
        // The peer goes on talking, and the alive timer fires while the table waits.
        for s in UInt32(51) ..< 54 { _ = a.receive(SyncMessage(type: .flowUpdate, sequence: s, body: EngineTestFlows.body(9))) }
        let stalled = stalledMilliseconds * Self.ms
        a.fire(now: ns(stalled))
        out += a.transmit(now: ns(stalled), render: render)
        // The peer acknowledges what it got, and the table goes out whole.
        var acknowledged: UInt32 = 0
        for step in 0 ..< 3 {
            let last = out.filter { $0.type == .flowUpdate }.map(\.sequence).max() ?? 0
            guard last > acknowledged else { break }
            _ = a.receive(SyncMessage.control(.ack(acknowledged + 1, last, sequence: 60 + UInt32(step))))
            acknowledged = last
            out += a.transmit(now: ns(stalled + (1 + UInt64(step)) * Self.ms), render: render)
        }
        #expect(out.filter { $0.type == .flowUpdate }.count == 20)
        let lastObject = out.lastIndex { $0.type == .flowUpdate }!
        let ticksBefore = out[1 ..< lastObject].filter(isTick)
        let after = out[(lastObject + 1)...]
        if stalledMilliseconds < 2_000 {
            #expect(ticksBefore.isEmpty, "\(out.map { ($0.type, $0.flags) })")
            // The end, then the held ACK of the peer's messages.
            #expect(after.first.map { $0.flags.contains(.alive) } == true)
            #expect(after.contains { if case .control(let c) = $0.body { c.flags.contains(.ack) && c.range?.to == 53 } else { false } })
        } else {
            #expect(!ticksBefore.isEmpty, "\(out.map { ($0.type, $0.flags) })")
        }
    }

    /// ACKs and NACKs are not held back by a full queue: the peer's progress depends on them.
    @Test func controlMessagesPassAFullQueue() {
        var a = Engine(configuration: .init(ackWindowSize: 5, resendQueueSize: 2, holdDataUntilHandshake: false), firstSequence: 1, now: ns(0))
        for k in 0..<4 { a.enqueue(k) }
        let first = a.transmit(now: ns(0)) { (.flowUpdate, EngineTestFlows.body($0)) }
        #expect(first.filter { $0.type == .flowUpdate }.count == 2)
        #expect(a.transmitQueueCount == 2)
        for s in UInt32(50)..<55 { _ = a.receive(SyncMessage(type: .flowUpdate, sequence: s, body: EngineTestFlows.body(9))) }
        let second = a.transmit(now: ns(1)) { (.flowUpdate, EngineTestFlows.body($0)) }
        #expect(second.contains { if case .control(let c) = $0.body { c.flags.contains(.ack) } else { false } })
        #expect(!second.contains { $0.type == .flowUpdate })
        // The peer acknowledges the first two and our ACK: the other two go.
        _ = a.receive(SyncMessage.control(.ack(1, 3, sequence: 60)))
        let third = a.transmit(now: ns(2)) { (.flowUpdate, EngineTestFlows.body($0)) }
        #expect(third.filter { $0.type == .flowUpdate }.count == 2)
    }

    /// A long stall with controls queued among the held objects: each control goes out in
    /// the run after it was queued, ahead of the objects queued before it, and once the
    /// peer acknowledges, the objects follow in the order they were queued, each once.
    /// (The transmit run holds objects where they are and reaches the controls directly.)
    @Test func controlsOvertakeHeldObjectsWhichKeepTheirOrder() {
        var a = Engine(configuration: .init(ackWindowSize: 5, resendQueueSize: 2, holdDataUntilHandshake: false), firstSequence: 1, now: ns(0))
        let render: (Int) -> (SyncMessageType, SyncMessage.Body)? = { (.flowUpdate, EngineTestFlows.body($0)) }
        func objects(_ out: [SyncMessage]) -> [Int] {
            out.compactMap { m in
                guard m.type == .flowUpdate, case .flow(let f) = m.body, case .v4(let v)? = f.source else { return nil }
                return Int(v & 0xff_ffff)
            }
        }
        var top: UInt32 = 0
        func note(_ out: [SyncMessage]) -> [SyncMessage] {
            top = max(top, out.map(\.sequence).max() ?? 0)
            return out
        }
        var sent = objects(note(a.transmit(now: ns(0), render: render)))
        for k in 0 ..< 1_000 { a.enqueue(k) }
        sent += objects(note(a.transmit(now: ns(0), render: render)))
        #expect(sent == [0, 1])
        // The peer talks: our ACK of it goes at once, past 998 held objects.
        for s in UInt32(50) ..< 55 { _ = a.receive(SyncMessage(type: .flowUpdate, sequence: s, body: EngineTestFlows.body(9))) }
        let ack = note(a.transmit(now: ns(1), render: render))
        #expect(ack.count == 1 && ack.first.map { if case .control(let c) = $0.body { c.flags.contains(.ack) } else { false } } == true)
        for k in 1_000 ..< 2_000 { a.enqueue(k) }
        a.requestRetransmission(ClosedRangeOfSequences(from: 40, to: 41))
        let nack = note(a.transmit(now: ns(2), render: render))
        #expect(nack.count == 1 && nack.first.map { if case .control(let c) = $0.body { c.flags.contains(.nack) } else { false } } == true)
        #expect(a.transmitQueueCount == 1_998)
        // The peer acknowledges everything it gets, a run at a time.
        var step: UInt32 = 0
        var last: UInt32 = 0
        while a.hasPendingTransmit && step < 5_000 {
            step += 1
            _ = a.receive(SyncMessage.control(.ack(last &+ 1, top, sequence: 60 + step)))
            last = top
            let out = note(a.transmit(now: ns(3 + UInt64(step)), render: render))
            sent += objects(out)
        }
        #expect(sent == Array(0 ..< 2_000))
        #expect(a.transmitQueueCount == 0)
    }
}
