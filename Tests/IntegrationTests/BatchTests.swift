import Conntrack
import Netlink
import TestSupport
import Testing

/// Batched create / update / delete through the library, checked against the kernel.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct BatchTests {
    static func flows(_ n: Int) -> [Flow] {
        (0..<n).map { i in
            var f = Flow(original: Tuple(source: .v4(0x0a40_0000 + UInt32(i)), destination: .v4(0xac14_0001),
                                         protocolNumber: 6, sourcePort: 40000, destinationPort: 80))
            f.timeout = 300
            f.status = [.seenReply, .assured]
            f.protocolInfo = .tcp(TCPInfo(state: .established))
            return f
        }
    }

    @Test func thousandsPerCallWithPerFlowErrors() throws {
        let ns = try TestNamespace("batch")
        defer { ns.remove() }
        let c = try ConntrackConnection(namespace: ns.name, batchSize: 500)
        let flows = Self.flows(5000)
        let created = try c.create(flows)
        #expect(created.succeeded == 5000 && created.failed == 0)
        #expect(ns.run(["conntrack", "-C"]).stdout == "5000\n")

        // Re-creating a slice fails for exactly those flows, each reported by its index.
        var mixed = Array(flows[100..<110])
        mixed += Self.flows(5010)[5000..<5010]
        let again = try c.create(mixed)
        #expect(again.succeeded == 10)
        #expect(again.failures.map(\.index) == Array(0..<10))
        #expect(again.failures.allSatisfy { $0.error.errno == 17 }) // EEXIST

        // Updating in place (the commit path) needs no EXCL.
        var marked = flows
        for i in marked.indices { marked[i].mark = 9 }
        let updated = try c.create(marked, updateExisting: true)
        #expect(updated.succeeded == 5000)
        var seen = 0
        try c.dump { f in if f.mark == 9 { seen += 1 } }
        #expect(seen == 5000)

        let deleted = try c.delete(flows)
        #expect(deleted.succeeded == 5000)
        #expect(try c.count() == 10)
        try c.flush()
        #expect(try c.flows().isEmpty)
    }
}
