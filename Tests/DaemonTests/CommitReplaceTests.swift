import Conntrack
@testable import Daemon
import Foundation
import IPAddressing
import StateSync
import Timekeeping
import TestSupport
import Testing

/// A commit meets a local entry that cannot take the replicated NAT (one made by a packet
/// that crossed before the commit, or left from an earlier term). The kernel refuses to
/// update it (EOPNOTSUPP); as conntrackd does on a collision, the entry is removed and the
/// replicated flow created in its place, so the master's state is what the kernel holds.
@Suite(.serialized) struct CommitReplaceTests {
    static let client = IPAddress("10.0.0.10")!
    static let server = IPAddress("192.168.255.33")!
    static let vip = IPAddress("192.168.255.250")!

    static func original(_ port: UInt16) -> Tuple {
        Tuple(source: client, destination: server, protocolNumber: IPProtocolNumber.udp, sourcePort: port, destinationPort: 5000)
    }

    /// The master's flow: source NAT to the VIP, as the seed's SNAT rule makes it.
    static func replicated(_ port: UInt16) -> SyncedFlow {
        var f = Flow(original: original(port), reply: Tuple(source: server, destination: vip, protocolNumber: IPProtocolNumber.udp,
                                                             sourcePort: 5000, destinationPort: port))
        f.status = [.confirmed, .seenReply, .assured, .sourceNAT, .sourceNATDone]
        f.timeout = 120
        var s = SyncedFlow(flow: f)
        s.sourceNAT = vip
        return s
    }

    static func localEntries(_ kernel: ConntrackConnection, ports: ClosedRange<UInt16>) throws {
        let flows = ports.map { p in
            var f = Flow(original: original(p))
            f.status = .confirmed
            f.timeout = 30
            return f
        }
        #expect(try kernel.create(flows).succeeded == ports.count)
    }

    static func natBound(_ kernel: ConntrackConnection) throws -> Int {
        var n = 0
        try kernel.dump { f in
            if f.status?.contains(.sourceNAT) == true, f.reply?.destination == vip { n += 1 }
        }
        return n
    }

    @Test(.enabled(if: Shell.isRoot, "needs root"))
    func aLocalEntryGivesWayToTheReplicatedOne() throws {
        let ns = try TestNamespace("repl", prefix: "tdn")
        defer { ns.remove() }
        let kernel = try ConntrackConnection(namespace: ns.name)
        try Self.localEntries(kernel, ports: 41000...41009)
        var cache = ExternalCache(limit: 1000)
        for p in UInt16(41000)...41019 { cache.apply(.flowNew, Self.replicated(p), now: .now()) }
        let committer = Committer(kernel: kernel, commitTimeout: 0, windowTracking: false)

        // The control: the kernel will not update a local entry with the master's NAT.
        let written = Committer(kernel: kernel, commitTimeout: 0, windowTracking: false).kernelFlow(Self.replicated(41000), timeout: nil)!
        let refused = try kernel.create([written], updateExisting: true, acknowledge: true)
        #expect(refused.failures.map(\.error.errno) == [EOPNOTSUPP])
        #expect(try Self.natBound(kernel) == 0)

        let report = try committer.commit(cache.entries.values, adopt: nil, quietly: nil)
        #expect(report.flows == 20)
        #expect(report.succeeded == 20 && report.failed == 0, "\(report.failureCauses)")
        #expect(report.replaced == 10)
        #expect(try Self.natBound(kernel) == 20)
        var count = 0
        try kernel.dump { _ in count += 1 }
        #expect(count == 20, "the local entries are gone, not kept beside the replicated ones")
    }
}
