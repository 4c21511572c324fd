import Conntrack
import StateSync
import TestSupport
import Testing
import Timekeeping

/// Random bytes after valid messages in one datagram, and random datagrams between
/// valid ones: the receiver never crashes, every valid message before the garbage comes
/// out intact, and the garbage is counted.
@Suite struct RandomDatagramTests {
    static func validMessages(_ count: Int, firstSequence: UInt32) -> [SyncMessage] {
        (0..<count).map { i in
            SyncMessage(type: .flowUpdate, sequence: firstSequence &+ UInt32(i), body: EngineTestFlows.body(i))
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func garbageAfterValidMessagesCostsNothingBeforeIt(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var receiver = SyncReceiver()
        var kept = 0
        for round in 0..<2000 {
            let messages = Self.validMessages(Int(rng.next() % 5) + 1, firstSequence: UInt32(round * 10))
            var bytes: [UInt8] = []
            for m in messages { m.encode(into: &bytes) }
            let garbage = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let out = receiver.receive(datagram: bytes + garbage)
            let decoded = out.compactMap { r -> SyncMessage? in if case .message(let m) = r { m } else { nil } }
            #expect(Array(decoded.prefix(messages.count)) == messages)
            kept += min(decoded.count, messages.count)
        }
        #expect(receiver.counters.malformed > 0)
    }

    @Test(arguments: [UInt64(7), 8])
    func purelyRandomDatagramsNeverCrash(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var receiver = SyncReceiver()
        var engine = FTFWEngine<Int>(firstSequence: 1, now: ns(0))
        for _ in 0..<20_000 {
            // Bias towards plausible headers so the deeper checks run too.
            var bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if bytes.count >= 4 && rng.next() % 2 == 0 {
                bytes[0] = [0x10, 0x11, 0x12, 0x13, 0x1a, 0x17][Int(rng.next() % 6)]
                bytes[2] = 0
                bytes[3] = UInt8(bytes.count)
            }
            for r in receiver.receive(datagram: bytes) {
                if case .message(let m) = r { _ = engine.receive(m) }
            }
        }
        #expect(receiver.counters.malformed > 0)
    }
}
