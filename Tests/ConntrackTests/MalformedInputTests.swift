import Conntrack
import Netlink
import TestSupport
import Testing

/// Hostile bytes give typed errors and never trap.
@Suite struct MalformedInputTests {
    static var corpus: [[UInt8]] {
        Vectors.names.flatMap { n in
            let x = Vectors.load(n)
            return (x.sentMessages + x.receivedMessages).filter { $0.count > 20 }
        }
    }

    static func decodeBody(_ m: [UInt8]) -> Result<Flow, NetlinkDecodingError> {
        Result { () throws(NetlinkDecodingError) in try FlowCodec.decode(m, payload: min(16, m.count)..<m.count, unknown: .strict) }
    }

    @Test func truncationAtEveryLengthIsTypedOrValid() {
        for m in Self.corpus {
            for cut in 0..<m.count {
                let part = Array(m.prefix(cut))
                var reader = MessageReader(part)
                while let v = reader.next() {
                    _ = try? FlowCodec.decode(part, payload: v.payload)
                    _ = try? ExpectationCodec.decode(part, payload: v.payload)
                }
                if cut < 16 { #expect(reader.error != nil || cut == 0) }
                _ = Self.decodeBody(part)
            }
        }
    }

    @Test func attributeLengthPastTheEndIsTyped() throws {
        var m = try #require(Vectors.load("tcp4-create").sentMessages.first)
        // First attribute header sits after nlmsghdr + nfgenmsg.
        m[20] = 0xff
        m[21] = 0x0f
        guard case .failure(let e) = Self.decodeBody(m) else { Issue.record("accepted"); return }
        #expect(e.reason == "attribute-too-long")
    }

    @Test func unknownAttributeIsTypedInStrictModeAndSkippedOtherwise() throws {
        var m = try #require(Vectors.load("udp4-create").sentMessages.first)
        var extra = AttributeEncoder()
        extra.uint32BE(999 & 0x3fff, 1)
        m.append(contentsOf: extra.bytes)
        let length = UInt32(m.count)
        m[0] = UInt8(length & 0xff); m[1] = UInt8(length >> 8)
        guard case .failure(let e) = Self.decodeBody(m) else { Issue.record("accepted"); return }
        #expect(e == .unknownAttribute(type: 999, context: "conntrack"))
        let lenient = try FlowCodec.decode(m, payload: 16..<m.count)
        #expect(lenient.timeout == 30)
    }

    @Test func missingTupleAddressIsTyped() {
        var e = AttributeEncoder()
        NetfilterHeader(family: 2).encode(into: &e)
        e.nested(CTA.tupleOrig) { t in t.nested(CTA.Tuple.proto) { $0.uint8(CTA.Proto.num, 6) } }
        let r = Result { () throws(NetlinkDecodingError) in try FlowCodec.decode(e.bytes, payload: 0..<e.bytes.count) }
        guard case .failure(let err) = r else { Issue.record("accepted"); return }
        #expect(err == .missingAttribute("tuple addresses"))
    }

    @Test func nestingAbuseIsTyped() {
        var inner = AttributeEncoder()
        inner.uint8(1, 1)
        var bytes = inner.bytes
        for _ in 0..<(AttributeDecoder.maximumDepth + 4) {
            var e = AttributeEncoder()
            e.nested(CTA.Tuple.ip) { $0.bytes.append(contentsOf: bytes) }
            bytes = e.bytes
        }
        var m = AttributeEncoder()
        NetfilterHeader(family: 2).encode(into: &m)
        m.nested(CTA.tupleOrig) { $0.bytes.append(contentsOf: bytes) }
        // The tuple decoder reads a fixed depth; deeper junk must fail cleanly.
        _ = try? FlowCodec.decode(m.bytes, payload: 0..<m.bytes.count, unknown: .strict)
        #expect(throws: NetlinkDecodingError.self) {
            try FlowCodec.decode(m.bytes, payload: 0..<m.bytes.count, unknown: .strict)
        }
    }

    @Test func thousandsOfMutatedMessagesNeverTrap() {
        var rng = SplitMix64(seed: 7)
        let corpus = Self.corpus
        var failures = 0
        var successes = 0
        for _ in 0..<20_000 {
            var m = corpus[Int(rng.next() % UInt64(corpus.count))]
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits {
                let i = Int(rng.next() % UInt64(m.count))
                switch rng.next() % 3 {
                case 0: m[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: m[i] ^= 1 << UInt8(rng.next() % 8)
                default: m.removeSubrange(i..<min(m.count, i + 1 + Int(rng.next() % 8)))
                }
                if m.count < 20 { break }
            }
            switch Self.decodeBody(m) {
            case .success: successes += 1
            case .failure: failures += 1
            }
            _ = try? ExpectationCodec.decode(m, payload: min(16, m.count)..<m.count, unknown: .strict)
        }
        #expect(failures > 0 && successes + failures == 20_000)
    }

    @Test func randomBytesNeverTrap() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<10_000 {
            let n = Int(rng.next() % 200)
            let m = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var reader = MessageReader(m)
            while let v = reader.next() {
                _ = try? FlowCodec.decode(m, payload: v.payload)
                _ = try? NetlinkErrorMessage.decode(m, v)
            }
            _ = Self.decodeBody(m)
        }
    }
}
