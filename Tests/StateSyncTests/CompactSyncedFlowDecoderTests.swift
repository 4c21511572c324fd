import Conntrack
import StateSync
import TestSupport
import Testing
import IPAddressing

/// The receiver's fast path must hold exactly what the general decoder and the external
/// cache's packing would, accept only payloads the general decoder accepts, and take
/// the common flows.
struct CompactSyncedFlowDecoderTests {
    static func payload(_ s: SyncedFlow) -> [UInt8] {
        var out: [UInt8] = []
        SyncedFlowCodec.encode(s, into: &out)
        return out
    }

    /// nil when the general path refuses the payload or keeps the flow whole.
    static func general(_ bytes: [UInt8]) -> CompactSyncedFlow.Packed? {
        guard let s = try? bytes.withUnsafeBytes({ try SyncedFlowCodec.decode($0, 0 ..< bytes.count) }),
              s.originalTuple != nil, case .packed(let p) = CompactSyncedFlow(s) else { return nil }
        return p
    }

    static func fast(_ bytes: [UInt8]) -> CompactSyncedFlow.Packed? {
        bytes.withUnsafeBytes { CompactSyncedFlow.Packed(payload: $0) }
    }

    /// Accepted ⇒ the general path holds the same, with the same key.
    static func check(_ bytes: [UInt8]) {
        guard let f = fast(bytes) else { return }
        guard let g = general(bytes) else {
            Issue.record("fast path took a payload the general path refuses or keeps whole: \(bytes)")
            return
        }
        #expect(f.synced == g.synced)
        #expect(f.originalTuple?.tuple == g.synced.originalTuple)
    }

    @Test(arguments: FlowFixtures.flows) func fixtureFlows(_ flow: Flow) {
        for options in CompactFlowMessageTests.optionSets {
            let bytes = Self.payload(SyncedFlow(flow: flow, options: options))
            Self.check(bytes)
            // The common flows take the fast path.
            if Self.general(bytes) != nil { #expect(Self.fast(bytes) != nil, "declined a packable flow: \(flow)") }
        }
    }

    @Test(arguments: [UInt64(7), 8, 9]) func randomAndMutatedPayloads(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func coin() -> Bool { rng.next() & 1 == 0 }
        let protocols: [UInt8] = [IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.icmp, IPProtocolNumber.sctp, 47, 58]
        var accepted = 0
        for _ in 0 ..< 3000 {
            var s = SyncedFlow()
            if coin() || coin() { s.source = .v4(UInt32(rng.next() % 8)); s.destination = .v4(UInt32(rng.next() % 8)) }
            else if coin() { s.source = IPAddress("2001:db8::1"); s.destination = IPAddress("2001:db8::2") }
            if coin() || coin() { s.protocolNumber = protocols[Int(rng.next() % UInt64(protocols.count))] }
            if coin() { s.ports = SyncPorts(source: UInt16(rng.next() % 5), destination: UInt16(rng.next() % 5)) }
            if coin() { s.icmpType = UInt8(rng.next() % 3) }
            if coin() { s.icmpCode = UInt8(rng.next() % 3) }
            if coin() { s.icmpID = UInt16(rng.next() % 3) }
            if coin() { s.tcpState = UInt8(rng.next() % 10) }
            if coin() { s.status = UInt32(truncatingIfNeeded: rng.next()) }
            if coin() { s.timeout = UInt32(truncatingIfNeeded: rng.next()) }
            if coin() { s.mark = UInt32(truncatingIfNeeded: rng.next()) }
            if coin() { s.synproxy = coin() ? SyncSynproxy(its: 0, isn: 0, tsoff: 0) : SyncSynproxy(its: 1, isn: 0, tsoff: 0) }
            if rng.next() % 8 == 0 { s.sourceNAT = .v4(9) }
            if rng.next() % 8 == 0 { s.helper = "ftp" }
            if rng.next() % 8 == 0 { s.windowScaleOriginal = 7 }
            var bytes = Self.payload(s)
            Self.check(bytes)
            if Self.fast(bytes) != nil { accepted += 1 }
            // Mutations: a flipped byte, a cut, a duplicated tail.
            if !bytes.isEmpty {
                var flipped = bytes
                flipped[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                Self.check(flipped)
                Self.check(Array(bytes[..<Int(rng.next() % UInt64(bytes.count))]))
                bytes += bytes.suffix(Int(rng.next() % 12))
                Self.check(bytes)
            }
        }
        #expect(accepted > 300)
    }
}
