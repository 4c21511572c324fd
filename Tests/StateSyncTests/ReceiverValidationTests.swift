import Conntrack
import StateSync
import TestSupport
import Testing

/// The rejection cases of spec §1.5 and the negative vectors N1–N5, each with the
/// counter the C daemon bumps, and no valid message lost beside a bad one.
@Suite struct ReceiverValidationTests {
    static let alive: [UInt8] = [0x1a, 0x10, 0x00, 0x08, 0x00, 0x00, 0x03, 0xe8]
    static let ack: [UInt8] = [0x1a, 0x08, 0x00, 0x10, 0, 0, 3, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2]

    func run(_ bytes: [UInt8]) -> ([ReceivedSyncMessage], SyncReceiveCounters) {
        var r = SyncReceiver()
        let out = r.receive(datagram: bytes)
        return (out, r.counters)
    }

    static func flowMessage(_ tlvs: [UInt8], type: UInt8 = 0x10) -> [UInt8] {
        let length = 8 + tlvs.count
        return [type, 0, UInt8(length >> 8), UInt8(length & 0xff), 0, 0, 3, 0xf0] + tlvs
    }

    /// A datagram decoded where it lies inside a larger buffer (an authenticated link's
    /// envelope around it) reads exactly its own bytes: the same messages as alone, and
    /// the envelope's bytes on either side are never taken for a message. The control:
    /// the whole buffer read as one datagram yields something else.
    @Test func aDatagramWithinABufferReadsOnlyItsOwnBytes() {
        let datagram = Self.alive + Self.ack
        let envelope = [UInt8](repeating: 0x1a, count: 11) + datagram + [0x1a, 0x10, 0x00, 0x08, 0, 0, 0, 9]
        var alone = SyncReceiver(), within = SyncReceiver(), whole = SyncReceiver()
        var fromAlone: [ReceivedSyncMessage] = [], fromWithin: [ReceivedSyncMessage] = [], fromWhole: [ReceivedSyncMessage] = []
        alone.receive(datagram: datagram, fastFlow: { _, _, _ in false }) { fromAlone.append($0) }
        within.receive(datagram: envelope, within: 11 ..< 11 + datagram.count, fastFlow: { _, _, _ in false }) { fromWithin.append($0) }
        whole.receive(datagram: envelope, fastFlow: { _, _, _ in false }) { fromWhole.append($0) }
        #expect(fromAlone.count == 2 && "\(fromWithin)" == "\(fromAlone)" && within.counters == alone.counters)
        #expect("\(fromWhole)" != "\(fromAlone)" || whole.counters != alone.counters)
    }

    @Test func truncatedHeader() {
        let (out, c) = run(Self.alive + [0x1a, 0x10, 0x00])
        #expect(out.count == 1)
        #expect(c.truncated == 1 && c.malformed == 1)
    }

    @Test func zeroLength() {
        let (out, c) = run(Self.alive + [0x1a, 0x10, 0, 0, 0, 0, 0, 1] + Self.alive)
        #expect(out.count == 1)
        #expect(c.badSize == 1)
    }

    @Test func lengthPastTheEnd() {
        let (out, c) = run(Self.alive + [0x1a, 0x10, 0, 0x40, 0, 0, 0, 1])
        #expect(out.count == 1)
        #expect(c.badSize == 1)
    }

    @Test func rangedControlShorterThan16() {
        let (_, c1) = run([0x1a, 0x08, 0x00, 0x0c, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(c1.badSize == 1)
        let (_, c2) = run([0x1a, 0x10, 0x00, 0x04, 0, 0, 0, 1])
        #expect(c2.badSize == 1)
    }

    @Test func n4WrongVersionSkipsOnlyThatMessage() {
        let (out, c) = run([0x2a, 0x10, 0x00, 0x08, 0x00, 0x00, 0x03, 0xf4] + Self.ack)
        #expect(c.wrongVersion == 1 && c.malformed == 1)
        #expect(out.count == 1)
    }

    @Test func n5UnknownTypeIsMalformedHeader() {
        let (out, c) = run([0x17, 0x00, 0x00, 0x08, 0, 0, 3, 0xf5] + Self.alive)
        #expect(c.malformedHeader == 1)
        #expect(out.count == 2)
        if case .malformedHeader(let h) = out[0] { #expect(h.typeCode == 7) } else { Issue.record("not flagged") }
    }

    @Test func dataTypeWithControlFlagsIsMalformedHeader() {
        let (_, c) = run([0x10, 0x08, 0x00, 0x08, 0, 0, 3, 0xf5])
        #expect(c.malformedHeader == 1)
    }

    @Test func n3AckWithToBeforeFrom() {
        let (out, c) = run([0x1a, 0x08, 0x00, 0x10, 0x00, 0x00, 0x03, 0xf3, 0x00, 0x00, 0x00, 0x32, 0x00, 0x00, 0x00, 0x28])
        #expect(c.malformedHeader == 1)
        #expect(out == [.malformedHeader(SyncHeader(type: .control, flags: .ack, length: 16, sequence: 1011))])
    }

    @Test func n1HelperNameOfTwelveCharactersIsRefused() {
        func helper(_ name: String) -> [UInt8] {
            let value = Array(name.utf8) + [0]
            let length = 4 + value.count
            var tlv: [UInt8] = [0, UInt8(length), 0, 27] + value
            while tlv.count % 4 != 0 { tlv.append(0) }
            return tlv
        }
        let ipv4: [UInt8] = [0, 12, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        let (ok, c1) = run(Self.flowMessage(ipv4 + helper("abcdefghijk")))
        #expect(c1.malformed == 0)
        if case .message(let m) = ok.first, case .flow(let f) = m.body { #expect(f.helper == "abcdefghijk") } else { Issue.record("11 chars") }
        let (bad, c2) = run(Self.flowMessage(ipv4 + helper("abcdefghijkl")) + Self.alive)
        #expect(c2.malformedPayload == 1)
        #expect(bad.count == 2)
        if case .malformedPayload(let h, let e) = bad[0] {
            #expect(h.sequence == 0x3f0)
            #expect(e == .tooLarge(type: 27, length: 17, maximum: 16))
        } else { Issue.record("12 chars accepted") }
    }

    @Test func n2StatusOfWrongSize() {
        let (_, c) = run(Self.flowMessage([0, 6, 0, 5, 0, 0, 0, 0]))
        #expect(c.malformedPayload == 1)
    }

    @Test func unknownAttributeRefusesTheMessage() {
        let (_, c) = run(Self.flowMessage([0, 8, 0, 33, 0, 0, 0, 0]))
        #expect(c.malformedPayload == 1)
        let (_, e) = run(Self.flowMessage([0, 8, 0, 21, 0, 0, 0, 0], type: 0x13))
        #expect(e.malformedPayload == 1)
    }

    @Test func trailingRemainderOfFourBytesIsIgnored() {
        let (out, c) = run(Self.flowMessage([0, 12, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 8, 0, 5]))
        #expect(c.malformed == 0)
        #expect(out.count == 1)
    }

    @Test func streamKeepsPartialMessages() {
        var r = SyncReceiver()
        let bytes = Self.alive + Array(Self.ack.prefix(10))
        let (messages, consumed) = r.receive(stream: bytes)
        #expect(messages.count == 1)
        #expect(consumed == 8)
        #expect(r.counters.malformed == 0)
    }

    @Test func randomAndMutatedDatagramsNeverTrap() {
        var rng = SplitMix64(seed: 3780)
        let corpus = SharedVectors.conntrackdMessages().map(\.bytes)
        var receiver = SyncReceiver()
        var seen = 0
        for i in 0..<20_000 {
            var d: [UInt8]
            if i % 2 == 0 {
                d = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                d = corpus[Int(rng.next() % UInt64(corpus.count))]
                for _ in 0..<(1 + Int(rng.next() % 3)) where !d.isEmpty {
                    d[Int(rng.next() % UInt64(d.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            seen += receiver.receive(datagram: d).count
        }
        #expect(seen > 0)
        #expect(receiver.counters.malformed > 0)
    }
}
