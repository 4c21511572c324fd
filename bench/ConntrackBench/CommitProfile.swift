#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Daemon
import IPAddressing
import Netlink
import StateSync

/// `conntrack-bench profile-commit N`
///
/// Where a commit's producer spends its time per flow, stage by stage, with no kernel
/// involved: N external-cache entries shaped like the benchmark's flows (packed, TCP
/// ESTABLISHED) go through each stage of the general path (what `tandem conntrackd -c`
/// did per flow before the packed path) and through the packed path, each stage in a
/// loop of its own so the clock is read twice per stage, not per flow. Prints one
/// key=value line of nanoseconds per flow. The packed stage repeats `Committer.committed
/// (packed:)`'s few lines here (that type is internal to the daemon); CommitEncodingTests
/// holds the real one to the general path.
func profileCommit(_ n: Int) -> Int32 {
    var stored: [CompactSyncedFlow] = []
    stored.reserveCapacity(n)
    for i in 0 ..< n {
        var s = SyncedFlow()
        s.source = .v4(0x0a40_0001 &+ UInt32(i))
        s.destination = .v4(0xac14_0001)
        s.protocolNumber = IPProtocolNumber.tcp
        s.ports = SyncPorts(source: 40000, destination: 80)
        s.tcpState = TCPState.established.rawValue
        s.status = FlowStatus([.seenReply, .assured, .confirmed]).rawValue
        s.timeout = 600
        stored.append(CompactSyncedFlow(s))
    }
    func perFlow(_ body: () -> Void) -> Int {
        let t0 = now()
        body()
        return Int((now() - t0) * 1e9 / Double(max(n, 1)))
    }
    var sink = 0
    // General path.
    var synced: [SyncedFlow] = []
    synced.reserveCapacity(n)
    let decompress = perFlow { for e in stored { synced.append(e.synced) } }
    var flows: [Flow] = []
    flows.reserveCapacity(n)
    let toFlow = perFlow { for s in synced { flows.append(s.flow!) } }
    let kernelCopy = perFlow {
        for i in flows.indices {
            var f = flows[i]
            f.timeout = f.timeout ?? 180
            var tcp = f.protocolInfo?.tcp ?? TCPInfo()
            tcp.flagsOriginal = TCPFlags(flags: 0x08, mask: 0x08)
            tcp.flagsReply = TCPFlags(flags: 0x08, mask: 0x08)
            f.protocolInfo = .tcp(tcp)
            flows[i] = f
        }
    }
    let repack = perFlow {
        for f in flows {
            var adopted = f
            if let s = adopted.status { adopted.status = s.union(.confirmed) }
            if case .packed = CompactFlow(adopted) { sink &+= 1 }
            sink &+= FlowKey(adopted.original!).hashValue & 1
        }
    }
    var batch = MessageBatch()
    let encodeGeneral = perFlow {
        for (i, f) in flows.enumerated() {
            if i % 1000 == 0 { batch.removeAll() }
            batch.append(type: ConntrackMessageType.new, flags: [.request, .create], sequence: UInt32(i)) { e in
                var c = f
                if let s = c.status { c.status = s.union(.confirmed) }
                FlowCodec.encode(c, into: &e)
            }
        }
    }
    // Packed path.
    var packed: [CompactFlow.Packed] = []
    packed.reserveCapacity(n)
    let convert = perFlow {
        for case .packed(let p) in stored {
            guard let o = p.originalTuple else { continue }
            var k = CompactFlow.Packed(unchecked: o)
            k.reply = o.inverted
            k.status = p.status | FlowStatus.confirmed.rawValue
            k.timeout = p.has(CompactSyncedFlow.Packed.Bit.timeout) ? p.timeout : 180
            k.tcpState = p.tcpState
            k.tcpFlags = (0x08, 0x08, 0x08, 0x08)
            typealias Bit = CompactFlow.Packed.Bit
            k.present = Bit.status | Bit.timeout | Bit.tcp | Bit.tcpState | Bit.flagsOriginal | Bit.flagsReply
            packed.append(k)
        }
    }
    let encodePacked = perFlow {
        for (i, k) in packed.enumerated() {
            if i % 1000 == 0 { batch.removeAll() }
            batch.append(type: ConntrackMessageType.new, flags: [.request, .create], sequence: UInt32(i)) { k.encodeRequest(into: &$0) }
        }
    }
    // The old commit decompressed each entry seven times (two masters-first filters read
    // for the count of sequence numbers, again for the write, plus the write's own, and
    // twice more for the report's count).
    let general = 7 * decompress + toFlow + kernelCopy + repack + encodeGeneral
    print("op=profile-commit n=\(n) general_decompress_ns=\(decompress) general_decompressions_per_flow=7 general_to_flow_ns=\(toFlow) "
          + "general_kernel_copy_ns=\(kernelCopy) general_adopt_repack_ns=\(repack) general_encode_ns=\(encodeGeneral) "
          + "general_total_ns=\(general) packed_convert_ns=\(convert) packed_encode_ns=\(encodePacked) "
          + "packed_total_ns=\(convert + encodePacked) sink=\(sink & 1)")
    return 0
}
