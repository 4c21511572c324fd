import Conntrack
import StateSync
import TestSupport
import Testing
import IPAddressing

/// The sender writes a packed flow's message straight from the packed fields: it must be
/// byte for byte the message the general path encodes.
struct CompactFlowMessageTests {
    static let optionSets = [SyncSenderOptions(), SyncSenderOptions(includeTimeout: false, windowTracking: true),
                             SyncSenderOptions(includeTimeout: true, windowTracking: true)]

    static func expected(_ p: CompactFlow.Packed, _ type: SyncMessageType, _ flags: SyncFlags, _ seq: UInt32,
                         _ options: SyncSenderOptions) -> [UInt8] {
        SyncMessage(type: type, flags: flags, sequence: seq, body: .flow(CompactFlow.packed(p).synced(options: options))).encoded
    }

    static func written(_ p: CompactFlow.Packed, _ type: SyncMessageType, _ flags: SyncFlags, _ seq: UInt32,
                        _ options: SyncSenderOptions) -> [UInt8] {
        var out = [UInt8](repeating: 0xEE, count: CompactFlow.Packed.messageCapacity)
        let n = out.withUnsafeMutableBytes { p.writeMessage(type: type, flags: flags, sequence: seq, options: options, to: $0.baseAddress!) }
        return Array(out[..<n])
    }

    @Test func theFixtureFlowsWriteTheirMessages() throws {
        var checked = 0
        for f in FlowFixtures.flows {
            guard case .packed(let p) = CompactFlow(f) else { continue }
            for options in Self.optionSets {
                for type in [SyncMessageType.flowNew, .flowUpdate, .flowDestroy] {
                    #expect(Self.written(p, type, [.hello], 0xA1B2_C3D4, options) == Self.expected(p, type, [.hello], 0xA1B2_C3D4, options))
                    checked += 1
                }
            }
        }
        #expect(checked >= 20)
    }

    /// Random packed flows: every protocol the packed form holds, with and without each
    /// optional field, NAT'd and not, any status bits.
    @Test(arguments: [UInt64(1), 2, 3]) func randomFlowsWriteTheirMessages(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func random<T: FixedWidthInteger>(_: T.Type) -> T { T(truncatingIfNeeded: rng.next()) }
        func coin() -> Bool { rng.next() & 1 == 0 }
        let protocols: [UInt8] = [IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.icmp, IPProtocolNumber.sctp,
                                  IPProtocolNumber.dccp, IPProtocolNumber.icmpv6, 47, 132, 0]
        func tuple(_ proto: UInt8, like base: PackedTuple?) -> PackedTuple {
            let icmp = proto == IPProtocolNumber.icmp || proto == IPProtocolNumber.icmpv6
            let fields: [Bool] = (0 ..< 3).map { _ in coin() }
            if let base, coin() {
                // Often the plain inverse, as an un-NAT'd reply is.
                return PackedTuple(source: base.destination, destination: base.source, protocolNumber: proto,
                                   sourcePort: icmp ? nil : UInt16(truncatingIfNeeded: base.layer4),
                                   destinationPort: icmp ? nil : UInt16(truncatingIfNeeded: base.layer4 >> 16),
                                   icmpType: icmp ? 0 : nil, icmpCode: icmp ? 0 : nil,
                                   icmpID: icmp ? UInt16(truncatingIfNeeded: base.layer4) : nil)!
            }
            let small = { UInt16(rng.next() % 4) }
            if icmp {
                return PackedTuple(source: UInt32(rng.next() % 4), destination: UInt32(rng.next() % 4), protocolNumber: proto,
                                   sourcePort: nil, destinationPort: nil,
                                   icmpType: fields[0] ? UInt8(small()) : nil, icmpCode: fields[1] ? UInt8(small()) : nil,
                                   icmpID: fields[2] ? small() : nil)!
            }
            return PackedTuple(source: UInt32(rng.next() % 4), destination: UInt32(rng.next() % 4), protocolNumber: proto,
                               sourcePort: fields[0] ? small() : nil, destinationPort: fields[1] ? small() : nil,
                               icmpType: nil, icmpCode: nil, icmpID: nil)!
        }
        for _ in 0 ..< 4000 {
            let proto = protocols[Int(rng.next() % UInt64(protocols.count))]
            let o = tuple(proto, like: nil)
            var p = CompactFlow.Packed(unchecked: o)
            p.reply = tuple(proto, like: o)
            typealias Bit = CompactFlow.Packed.Bit
            for bit in [Bit.status, Bit.timeout, Bit.mark, Bit.id, Bit.tcp, Bit.tcpState, Bit.windowScaleOriginal,
                        Bit.windowScaleReply, Bit.flagsOriginal, Bit.flagsReply, Bit.zeroSynproxy] where coin() {
                p.present |= bit
            }
            p.status = random(UInt32.self) & 0x1FF
            p.timeout = random(UInt32.self)
            p.mark = random(UInt32.self)
            p.tcpState = UInt8(rng.next() % 10)
            p.windowScaleOriginal = UInt8(rng.next() % 15)
            p.windowScaleReply = UInt8(rng.next() % 15)
            let type = [SyncMessageType.flowNew, .flowUpdate, .flowDestroy][Int(rng.next() % 3)]
            let flags: SyncFlags = coin() ? [] : [.helloBack]
            let seq = random(UInt32.self)
            for options in Self.optionSets {
                let got = Self.written(p, type, flags, seq, options)
                let want = Self.expected(p, type, flags, seq, options)
                #expect(got == want, "\(p) \(options)")
                if got != want { return }
            }
        }
    }
}
