import Conntrack
import Netlink
import TestSupport
import Testing
import IPAddressing

/// The event fast path must hold exactly what the general decoder and the cache's packing
/// would, and decline whatever the packed form cannot hold.
struct CompactFlowEventDecoderTests {
    /// An event payload as the kernel sends it: the request attributes plus id, use and
    /// counters.
    static func payload(_ f: Flow, extras: Bool = true) -> [UInt8] {
        var e = AttributeEncoder()
        FlowCodec.encode(f, into: &e)
        if extras {
            e.uint32BE(CTA.id, 0x1234_5678)
            e.uint32BE(CTA.use, 1)
            e.nested(CTA.countersOrig) { $0.uint64BE(1, 10); $0.uint64BE(2, 1400) }
            e.nested(CTA.countersReply) { $0.uint64BE(1, 8); $0.uint64BE(2, 900) }
        }
        return e.bytes
    }

    /// What the general path keeps for the same bytes.
    static func general(_ bytes: [UInt8]) throws -> CompactFlow {
        var f = try FlowCodec.decode(bytes, payload: 0 ..< bytes.count)
        f.countersOriginal = nil
        f.countersReply = nil
        f.use = nil
        return CompactFlow(f)
    }

    static var variants: [Flow] {
        var out = FlowFixtures.flows
        var unreplied = FlowFixtures.tcp
        unreplied.protocolInfo = .tcp(TCPInfo(state: .synSent))
        unreplied.mark = nil
        out.append(unreplied)
        var noInfo = FlowFixtures.tcp
        noInfo.protocolInfo = nil
        noInfo.synproxy = nil
        out.append(noInfo)
        var emptyInfo = FlowFixtures.tcp
        emptyInfo.protocolInfo = .tcp(TCPInfo())
        out.append(emptyInfo)
        var sctp = FlowFixtures.tcp
        sctp.protocolInfo = .sctp(SCTPInfo(state: 3, verificationTagOriginal: 1, verificationTagReply: 2))
        out.append(sctp)
        var natted = FlowFixtures.tcp
        natted.sourceNAT = NATRange(minimumAddress: .v4(5), maximumAddress: .v4(5))
        out.append(natted)
        return out
    }

    @Test(arguments: variants) func matchesTheGeneralPath(_ f: Flow) throws {
        for extras in [true, false] {
            let bytes = Self.payload(f, extras: extras)
            let expected = try Self.general(bytes)
            let fast = bytes.withUnsafeBytes { CompactFlow.Packed(eventPayload: $0) }
            switch expected {
            case .packed(let p):
                let got = try #require(fast, "declined a packable flow: \(f)")
                #expect(CompactFlow.packed(got).flow == p.flow)
            case .general:
                #expect(fast == nil, "packed a flow the cache keeps whole: \(f)")
            }
        }
    }

    @Test func truncatedOrOddAttributesDecline() {
        let good = Self.payload(FlowFixtures.tcp)
        for cut in stride(from: 0, to: good.count, by: 3) {
            let bytes = Array(good[..<cut])
            // Either declined, or (cut at an attribute boundary) what the general path holds.
            if let fast = bytes.withUnsafeBytes({ CompactFlow.Packed(eventPayload: $0) }),
               case .packed(let p)? = try? Self.general(bytes) {
                #expect(CompactFlow.packed(fast).flow == p.flow)
            }
        }
        var wrongSize = good
        // The status attribute (type 3) announced as 6 bytes long.
        if let i = (4 ..< wrongSize.count - 4).first(where: { wrongSize[$0] == 8 && wrongSize[$0 + 1] == 0 && wrongSize[$0 + 2] == 3 && wrongSize[$0 + 3] == 0 }) {
            wrongSize[i] = 6
            #expect(wrongSize.withUnsafeBytes { CompactFlow.Packed(eventPayload: $0) } == nil)
        }
    }

    /// Random bytes and random corruptions of real payloads: the fast path reads only
    /// inside the payload (debug builds trap otherwise) and never packs what the general
    /// decoder would not.
    @Test(arguments: [77, 78, 79] as [UInt64]) func corruptedPayloadsNeverCrashOrDisagree(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let seeds = Self.variants.map { Self.payload($0) }
        for round in 0 ..< 20000 {
            var bytes: [UInt8]
            if round % 5 == 0 {
                bytes = (0 ..< Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if bytes.count > 0 { bytes[0] = 2 }
            } else {
                bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
                for _ in 0 ... rng.next() % 4 where !bytes.isEmpty {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            guard let fast = bytes.withUnsafeBytes({ CompactFlow.Packed(eventPayload: $0) }) else { continue }
            // What the fast path accepts, the general decoder reads the same way (and does
            // not count as malformed).
            guard case .packed(let p)? = try? Self.general(bytes) else {
                Issue.record("round \(round): packed what the general path rejects or keeps whole: \(bytes)")
                continue
            }
            #expect(CompactFlow.packed(fast).flow == p.flow, "round \(round): \(bytes)")
        }
    }
}
