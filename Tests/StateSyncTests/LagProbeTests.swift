import StateSync
import TestSupport
import Testing
import Timekeeping

/// Replication lag from the peer's ACKs: a followed flow's kernel event to the ACK of the
/// message that carried it, and the receiver's acknowledgement delay that keeps it honest.
@Suite struct LagProbeTests {
    typealias Engine = FTFWEngine<Int>
    static let ms: UInt64 = 1_000_000

    /// Sends what `sender` has queued to `receiver`, returning the messages.
    static func deliver(_ sender: inout Engine, to receiver: inout Engine, at t: Instant) -> [SyncMessage] {
        let sent = sender.transmit(now: t) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) }
        for m in sent { _ = receiver.receive(m) }
        return sent
    }

    static func acknowledgements(_ messages: [SyncMessage]) -> [ClosedRangeOfSequences] {
        FTFWEngineTests.controls(messages).compactMap { $0.flags.contains(.ack) ? $0.range : nil }
    }

    /// The receiver acknowledges within its delay; the sender's probe turns that ACK into the
    /// followed flow's lag. Control: without the delay (conntrackd's behaviour) no ACK comes
    /// before the alive timer, so no sample either.
    @Test(arguments: [true, false]) func theLagIsTheTimeToThePeersAcknowledgement(delayed: Bool) {
        var master = Engine(configuration: .compatible(), firstSequence: 100, now: ns(0))
        var backup = Engine(configuration: .init(acknowledgementDelay: delayed ? .milliseconds(5) : nil), firstSequence: 1, now: ns(0))
        for k in 0 ..< 3 { master.enqueue(k) }
        #expect(master.lagProbe.wantsSample(now: ns(10 * Self.ms)))
        master.lagProbe.follow(2, now: ns(10 * Self.ms))
        #expect(!master.lagProbe.wantsSample(now: ns(11 * Self.ms)))
        let sent = Self.deliver(&master, to: &backup, at: ns(11 * Self.ms))
        #expect(sent.count == 3)

        backup.fire(now: ns(12 * Self.ms))
        #expect(backup.nextDeadline == (delayed ? ns(17 * Self.ms) : ns(1_000 * Self.ms)))
        var answers: [SyncMessage] = []
        for t in [ns(14 * Self.ms), ns(17 * Self.ms)] {
            backup.fire(now: t)
            answers += backup.transmit(now: t) { _ in nil }
        }
        let acks = Self.acknowledgements(answers)
        var events: [SyncEngineEvent] = []
        for m in answers { _ = master.receive(m, events: &events) }
        var lag: Duration?
        for case .peerAcknowledged(let r) in events {
            lag = lag ?? master.lagProbe.acknowledged(r, now: ns(18 * Self.ms))
        }
        if delayed {
            #expect(acks == [ClosedRangeOfSequences(from: 100, to: 102)])
            #expect(lag == .milliseconds(8))
        } else {
            #expect(acks.isEmpty)
            #expect(lag == nil)
        }
    }

    /// An ACK that does not cover the followed transmission gives no sample; once the probe
    /// has waited past its patience, the next flow replaces it and the lost one is counted.
    @Test func anUnansweredProbeIsGivenUpAndCounted() {
        var master = Engine(configuration: .compatible(), firstSequence: 1, now: ns(0))
        for k in 0 ..< 2 { master.enqueue(k) }
        master.lagProbe.follow(1, now: ns(0))
        _ = master.transmit(now: ns(Self.ms)) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) }
        #expect(master.lagProbe.acknowledged(ClosedRangeOfSequences(from: 1, to: 1), now: ns(2 * Self.ms)) == nil)
        #expect(!master.lagProbe.wantsSample(now: ns(9_000 * Self.ms)))
        #expect(master.lagProbe.wantsSample(now: ns(10_000 * Self.ms)))
        master.lagProbe.follow(0, now: ns(10_000 * Self.ms))
        #expect(master.lagProbe.abandoned == 1)
        // The old probe's ACK, late, no longer counts.
        #expect(master.lagProbe.acknowledged(ClosedRangeOfSequences(from: 1, to: 2), now: ns(10_001 * Self.ms)) == nil)
    }

    /// A retransmitted flow is matched by the ACK of its newer sequence too.
    @Test func aRetransmissionIsFollowed() {
        var master = Engine(configuration: .compatible(), firstSequence: 1, now: ns(0))
        master.enqueue(5)
        master.lagProbe.follow(5, now: ns(0))
        _ = master.transmit(now: ns(Self.ms)) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) }
        var events: [SyncEngineEvent] = []
        _ = master.receive(SyncMessage.control(ControlMessage(flags: .nack, sequence: 900, range: ClosedRangeOfSequences(from: 1, to: 1))), events: &events)
        _ = master.transmit(now: ns(2 * Self.ms)) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) }
        #expect(master.lagProbe.acknowledged(ClosedRangeOfSequences(from: 2, to: 2), now: ns(4 * Self.ms)) == .milliseconds(4))
    }
}
