import Conntrack
@testable import Daemon
import IPAddressing
import Netlink
import StateSync
import TestSupport
import Testing

/// The commit's packed path (`Committer.committed`) must give the kernel, and the
/// internal cache, exactly what the general path gives: `kernelFlow` of the decompressed
/// entry with IPS_CONFIRMED, encoded by `FlowCodec`.
struct CommitEncodingTests {
    /// Replicated flows as a peer sends them: the fixtures (IPv4 and IPv6, NAT both ways,
    /// helpers, zones, SYNPROXY) with and without timeouts and window scales, related
    /// flows, labels, marks, and many random plain flows in each direction.
    static var corpus: [SyncedFlow] {
        var out: [SyncedFlow] = []
        for f in FlowFixtures.flows {
            for options in [SyncSenderOptions(), SyncSenderOptions(includeTimeout: false), SyncSenderOptions(windowTracking: true)] {
                out.append(SyncedFlow(flow: f, options: options))
            }
        }
        var labelled = SyncedFlow(flow: FlowFixtures.tcp)
        labelled.labels = [0x5, 0, 0x80]
        var related = SyncedFlow(flow: FlowFixtures.tcp)
        related.masterSource = .v4(0x0a40_0001)
        related.masterDestination = .v4(0xac14_0001)
        related.masterProtocol = IPProtocolNumber.tcp
        related.masterPorts = SyncPorts(source: 40001, destination: 21)
        related.helper = "ftp"
        var marked = SyncedFlow(flow: FlowFixtures.tcp)
        marked.mark = 0xdead_beef
        var unstated = SyncedFlow(flow: FlowFixtures.tcp)
        unstated.tcpState = nil
        var noProtocol = SyncedFlow(flow: FlowFixtures.tcp)
        noProtocol.protocolNumber = nil
        out += [labelled, related, marked, unstated, noProtocol, SyncedFlow()]
        var rng = SplitMix64(seed: 1818)
        let protocols: [UInt8] = [IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.icmp, IPProtocolNumber.sctp, 47]
        for _ in 0 ..< 3000 {
            var s = SyncedFlow()
            // Either end may be the numerically larger one: both directions of a conversation.
            let a = UInt32.random(in: 0 ... .max, using: &rng), b = UInt32.random(in: 0 ... .max, using: &rng)
            s.source = .v4(a)
            s.destination = .v4(b)
            let proto = protocols.randomElement(using: &rng)!
            s.protocolNumber = proto
            if proto == IPProtocolNumber.icmp {
                if Bool.random(using: &rng) { s.icmpType = [0, 8, 13, 14, 3].randomElement(using: &rng)! }
                if Bool.random(using: &rng) { s.icmpCode = UInt8.random(in: 0 ... 15, using: &rng) }
                if Bool.random(using: &rng) { s.icmpID = UInt16.random(in: 0 ... .max, using: &rng) }
            } else if proto != 47 || Bool.random(using: &rng) {
                s.ports = SyncPorts(source: .random(in: 0 ... .max, using: &rng), destination: .random(in: 0 ... .max, using: &rng))
            }
            if proto == IPProtocolNumber.tcp && Bool.random(using: &rng) { s.tcpState = UInt8.random(in: 0 ... 9, using: &rng) }
            if Bool.random(using: &rng) { s.status = UInt32.random(in: 0 ... 0xffff, using: &rng) }
            if Bool.random(using: &rng) { s.timeout = UInt32.random(in: 1 ... 432_000, using: &rng) }
            if Bool.random(using: &rng) { s.mark = UInt32.random(in: 0 ... .max, using: &rng) }
            if Bool.random(using: &rng) { s.synproxy = SyncSynproxy(its: 0, isn: 0, tsoff: 0) }
            out.append(s)
        }
        return out
    }

    static func bytes(_ c: CompactFlow?) -> [UInt8] {
        var e = AttributeEncoder()
        switch c {
        case .packed(let k)?: k.encodeRequest(into: &e)
        case .general(let f)?: FlowCodec.encode(f, into: &e)
        case nil: FlowCodec.encode(Flow(), into: &e)
        }
        return e.bytes
    }

    /// The general path, as the commit took it before the packed one existed.
    static func general(_ committer: Committer, _ s: SyncedFlow) -> Flow? {
        guard var f = committer.kernelFlow(s, timeout: nil) else { return nil }
        if let st = f.status { f.status = st.union(.confirmed) }
        return f
    }

    static func committers() throws -> [Committer] {
        let kernel = try ConntrackConnection()
        return [(0, false), (0, true), (300, false), (300, true)].map {
            Committer(kernel: kernel, commitTimeout: $0.0, windowTracking: $0.1)
        }
    }

    @Test func packedCommitsAreTheGeneralPathsBytesAndFlows() throws {
        var packed = 0, generalOnly = 0
        for committer in try Self.committers() {
            for s in Self.corpus {
                let reference = Self.general(committer, s)
                let committed = committer.committed(CompactSyncedFlow(s))
                #expect(Self.bytes(committed) == Self.bytes(reference.map(CompactFlow.general)), "\(s)")
                switch committed {
                case .packed(let k)?:
                    packed += 1
                    #expect(k.flow == reference)
                    // What adoption records: the same packed entry the general path's
                    // `internalCache.record` would make of the flow.
                    guard case .packed(let viaFlow)? = reference.map(CompactFlow.init) else {
                        Issue.record("the general path does not pack \(s)"); continue
                    }
                    #expect(viaFlow.flow == k.flow)
                    #expect(FlowKey(packed: k.original) == FlowKey(reference!.original!))
                case .general(let f)?:
                    generalOnly += 1
                    #expect(f == reference)
                case nil:
                    #expect(reference == nil)
                }
            }
        }
        // Both paths were taken: plain IPv4 flows packed, the rest (IPv6, NAT, helpers,
        // labels, related flows) general.
        #expect(packed > 8000)
        #expect(generalOnly > 40)
    }

    /// Control: the comparison catches a packed path that differs in one setting
    /// (window tracking decides the liberal TCP flags).
    @Test func aDifferentSettingIsToldApart() throws {
        let kernel = try ConntrackConnection()
        let liberal = Committer(kernel: kernel, commitTimeout: 0, windowTracking: false)
        let tracking = Committer(kernel: kernel, commitTimeout: 0, windowTracking: true)
        var tcp = 0, differing = 0
        for s in Self.corpus where s.protocolNumber == IPProtocolNumber.tcp && CompactSyncedFlow.Packed(s) != nil {
            tcp += 1
            if Self.bytes(tracking.committed(CompactSyncedFlow(s))) != Self.bytes(Self.general(liberal, s).map(CompactFlow.general)) {
                differing += 1
            }
        }
        #expect(tcp > 100)
        #expect(differing == tcp)
    }
}
