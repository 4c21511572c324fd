import Conntrack
@testable import Daemon
import StateSync
import Testing
import IPAddressing

/// The caches' packed forms must give back exactly what was stored: listings, commits and
/// sent messages are built from them.
struct CachedFormsTests {
    static let tcp: Flow = {
        var f = Flow(original: Tuple(source: .v4(0x0a40_0001), destination: .v4(0xac14_0001), protocolNumber: IPProtocolNumber.tcp,
                                     sourcePort: 40000, destinationPort: 80))
        f.status = [.seenReply, .assured, .confirmed]
        f.timeout = 600
        f.mark = 0
        f.id = 2395713667
        f.protocolInfo = .tcp(TCPInfo(state: .established, windowScaleOriginal: 7, windowScaleReply: 0,
                                      flagsOriginal: TCPFlags(flags: 0x23, mask: 0), flagsReply: TCPFlags(flags: 0, mask: 0)))
        f.synproxy = Synproxy(initialSequence: 0, initialTimestamp: 0, timestampOffset: 0)
        return f
    }()

    static var flows: [Flow] {
        var icmp = Flow(original: Tuple(source: .v4(1), destination: .v4(2), protocolNumber: IPProtocolNumber.icmp,
                                        icmpType: 8, icmpCode: 0, icmpID: 77))
        icmp.status = [.confirmed]
        let udp = Flow(original: Tuple(source: .v4(3), destination: .v4(4), protocolNumber: IPProtocolNumber.udp, sourcePort: 53))
        var natted = tcp
        natted.reply?.destination = .v4(0xcb00_7163)
        natted.reply?.destinationPort = 61000
        var synproxy = tcp
        synproxy.synproxy = Synproxy(initialSequence: 1, initialTimestamp: 2, timestampOffset: 3)
        var helper = tcp
        helper.helper = Helper(name: "ftp")
        var zoned = udp
        zoned.original?.zone = 3
        let v6 = Flow(original: Tuple(source: IPAddress("2001:db8::1")!, destination: IPAddress("2001:db8::2")!,
                                      protocolNumber: IPProtocolNumber.tcp, sourcePort: 1, destinationPort: 2))
        var bare = Flow(family: AddressFamily.inet)
        bare.original = udp.original
        bare.reply = udp.reply
        var icmpNatted = icmp
        icmpNatted.reply?.destination = .v4(9)
        icmpNatted.status = [.confirmed, .sourceNATDone]
        var dnat = tcp
        dnat.reply?.source = .v4(0x0a00_0063)
        dnat.reply?.sourcePort = 8080
        dnat.status = [.confirmed, .destinationNATDone]
        return [tcp, icmp, udp, natted, synproxy, helper, zoned, v6, bare, icmpNatted, dnat]
    }

    @Test(arguments: flows) func internalFormGivesTheFlowBack(_ f: Flow) {
        #expect(CompactFlow(f).flow == f)
    }

    /// The sizes the per-flow memory figures rest on.
    @Test func entriesStaySmall() {
        #expect(MemoryLayout<FlowKey>.stride == 16)
        #expect(MemoryLayout<InternalCache.Entry>.stride == 72)
        #expect(MemoryLayout<ExternalCache.Entry>.stride == 48)
        // Every queue of the sync engine holds one per flow in flight.
        #expect(MemoryLayout<SyncObjectKey>.stride <= 24)
    }

    /// The sender builds messages from the packed form directly: the same message.
    @Test(arguments: flows) func packedMessageIsTheFlowsMessage(_ f: Flow) {
        for options in [SyncSenderOptions(), SyncSenderOptions(includeTimeout: false, windowTracking: true),
                        SyncSenderOptions(includeTimeout: true, windowTracking: true)] {
            #expect(CompactFlow(f).synced(options: options) == SyncedFlow(flow: f, options: options))
        }
    }

    @Test func commonFlowsArePacked() {
        guard case .packed = CompactFlow(Self.tcp) else { Issue.record("TCP flow not packed"); return }
        guard case .packed = CompactSyncedFlow(SyncedFlow(flow: Self.tcp)) else { Issue.record("synced TCP flow not packed"); return }
    }

    @Test(arguments: flows) func externalFormGivesTheMessageBack(_ f: Flow) {
        for options in [SyncSenderOptions(), SyncSenderOptions(includeTimeout: false, windowTracking: true)] {
            let s = SyncedFlow(flow: f, options: options)
            #expect(CompactSyncedFlow(s).synced == s)
        }
        var partial = SyncedFlow()
        partial.source = .v4(1)
        partial.destination = .v4(2)
        partial.icmpID = 9
        #expect(CompactSyncedFlow(partial).synced == partial)
    }

    @Test(arguments: flows) func keysCompareAsTheirTuples(_ f: Flow) {
        let o = f.original!
        let key = FlowKey(o)
        #expect(FlowKey(key.tuple) == key)
        var other = o
        other.sourcePort = o.sourcePort.map { $0 &+ 1 } ?? 1
        if !o.isICMP { #expect(FlowKey(other) != key) }
        var zoned = o
        zoned.zone = 9
        #expect(FlowKey(zoned) == key, "zones are not part of the identity")
        #expect(FlowKey(zoned).hashValue == key.hashValue)
    }
}
