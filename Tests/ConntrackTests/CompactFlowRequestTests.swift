import Conntrack
import IPAddressing
import Netlink
import TestSupport
import Testing

/// A packed flow's request must be byte for byte what the general encoder writes for
/// the same flow: the commit sends one or the other, and the kernel must not tell.
struct CompactFlowRequestTests {
    static func general(_ f: Flow) -> [UInt8] {
        var e = AttributeEncoder()
        FlowCodec.encode(f, into: &e)
        return e.bytes
    }

    static func fast(_ p: CompactFlow.Packed) -> [UInt8] {
        var e = AttributeEncoder()
        p.encodeRequest(into: &e)
        return e.bytes
    }

    /// Random packed flows over every optional part: ports or ICMP identity (one-sided
    /// too), each direction, TCP info pieces, status, timeout, mark, id, SYNPROXY.
    static func corpus(count: Int, seed: UInt64) -> [CompactFlow.Packed] {
        var rng = SplitMix64(seed: seed)
        let protocols: [UInt8] = [IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.icmp, IPProtocolNumber.sctp, 47]
        var out: [CompactFlow.Packed] = []
        for _ in 0 ..< count {
            let proto = protocols.randomElement(using: &rng)!
            let icmp = proto == IPProtocolNumber.icmp
            func maybe<T>(_ v: T) -> T? { Bool.random(using: &rng) ? v : nil }
            let type: UInt8? = icmp ? maybe([0, 8, 13, 3].randomElement(using: &rng)!) : nil
            guard let original = PackedTuple(
                source: UInt32.random(in: 0 ... .max, using: &rng), destination: UInt32.random(in: 0 ... .max, using: &rng),
                protocolNumber: proto,
                sourcePort: icmp ? nil : maybe(UInt16.random(in: 0 ... .max, using: &rng)),
                destinationPort: icmp ? nil : maybe(UInt16.random(in: 0 ... .max, using: &rng)),
                icmpType: type, icmpCode: icmp ? maybe(UInt8.random(in: 0 ... 15, using: &rng)) : nil,
                icmpID: icmp ? maybe(UInt16.random(in: 0 ... .max, using: &rng)) : nil) else { continue }
            var p = CompactFlow.Packed(unchecked: original)
            p.reply = original.inverted
            typealias Bit = CompactFlow.Packed.Bit
            if Bool.random(using: &rng) { p.status = UInt32.random(in: 0 ... 0xffff, using: &rng); p.present |= Bit.status }
            if Bool.random(using: &rng) { p.timeout = UInt32.random(in: 0 ... 432_000, using: &rng); p.present |= Bit.timeout }
            if Bool.random(using: &rng) { p.mark = UInt32.random(in: 0 ... .max, using: &rng); p.present |= Bit.mark }
            if Bool.random(using: &rng) { p.id = UInt32.random(in: 0 ... .max, using: &rng); p.present |= Bit.id }
            if proto == IPProtocolNumber.tcp && Bool.random(using: &rng) {
                p.present |= Bit.tcp
                for bit in [Bit.tcpState, Bit.windowScaleOriginal, Bit.windowScaleReply, Bit.flagsOriginal, Bit.flagsReply] where Bool.random(using: &rng) {
                    p.present |= bit
                }
                p.tcpState = UInt8.random(in: 0 ... 9, using: &rng)
                p.windowScaleOriginal = UInt8.random(in: 0 ... 14, using: &rng)
                p.windowScaleReply = UInt8.random(in: 0 ... 14, using: &rng)
                p.tcpFlags = (UInt8.random(in: 0 ... .max, using: &rng), UInt8.random(in: 0 ... .max, using: &rng),
                              UInt8.random(in: 0 ... .max, using: &rng), UInt8.random(in: 0 ... .max, using: &rng))
            }
            if Bool.random(using: &rng) { p.present |= Bit.zeroSynproxy }
            out.append(p)
        }
        return out
    }

    @Test func packedRequestsAreTheGeneralEncodersBytes() {
        let corpus = Self.corpus(count: 4000, seed: 18)
        #expect(corpus.count > 3000)
        var differing = 0
        for p in corpus where Self.fast(p) != Self.general(p.flow) { differing += 1 }
        #expect(differing == 0)
        // The fixtures that pack (the kernel's own shapes) as well.
        for f in FlowFixtures.flows {
            guard case .packed(let p) = CompactFlow(f) else { continue }
            #expect(Self.fast(p) == Self.general(p.flow))
        }
    }

    /// Control: the comparison sees a one-attribute difference (a packed flow against
    /// the same flow with its mark or its reply's port changed).
    @Test func aChangedFlowIsToldApart() {
        var changed = 0
        let corpus = Self.corpus(count: 500, seed: 81)
        for p in corpus {
            var f = p.flow
            f.mark = (f.mark ?? 0) &+ 1
            if Self.fast(p) != Self.general(f) { changed += 1 }
        }
        #expect(changed == corpus.count)
        let tuple = PackedTuple(source: 0x0a40_0001, destination: 0xac14_0001, protocolNumber: IPProtocolNumber.tcp,
                                sourcePort: 40000, destinationPort: 80, icmpType: nil, icmpCode: nil, icmpID: nil)!
        var q = CompactFlow.Packed(unchecked: tuple)
        q.reply = tuple.inverted
        var moved = q
        moved.reply.layer4 ^= 1
        #expect(Self.fast(q) == Self.general(q.flow))
        #expect(Self.fast(moved) != Self.general(q.flow))
    }

    /// The packed inversion is `Tuple.inverted`: ports and their presence swap sides,
    /// an ICMP request's type becomes the reply's.
    @Test func packedInversionIsTheTuplesInversion() {
        for p in Self.corpus(count: 2000, seed: 3) {
            #expect(p.original.inverted.tuple == p.original.tuple.inverted)
            #expect(p.original.inverted.inverted == p.original)
        }
    }
}
