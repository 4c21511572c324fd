import Foundation
import TestSupport
import Testing

/// A new master whose peer is down is the only conntrack event listener on its host. With
/// nf_conntrack_events at its default (2) the kernel equips a new entry to report events
/// only while some socket on the host listens, so the promotion's commit must keep
/// listening: the flows it writes have to report their end, or the master's internal cache
/// (and the peer, once back) keeps them for ever. Other tests' daemons and `conntrack -E`
/// would be listeners too, so `scripts/test` runs this suite alone, after the rest.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct HostWideListenerTests {
    @Test func flowsCommittedByALoneMasterReportTheirEnd() throws {
        let link = try VethLink(tag: "hwl", prefix: "tdh", addressA: "10.94.0.1/24", addressB: "10.94.0.2/24")
        defer { link.remove() }
        let base = NSTemporaryDirectory() + "tdt-hwl-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        typealias Node = FailoverNodeTests.Node
        let a = Node(namespace: link.a, interface: link.interfaceA, address: "10.94.0.1", peer: "10.94.0.2", directory: base + "/a")
        let b = Node(namespace: link.b, interface: link.interfaceB, address: "10.94.0.2", peer: "10.94.0.1", directory: base + "/b")
        try a.writeConfigs(priority: 200, state: "MASTER")
        try b.writeConfigs(priority: 100, state: "BACKUP")
        let nodeA = try a.start(demotion: 0)
        defer { nodeA.stop() }
        try #require(FailoverNodeTests.waitUntil(15) { a.holdsVIP }, "A never became master: \(Vectors.readText(a.log))")
        let nodeB = try b.start(demotion: 0)
        defer { nodeB.stop() }
        usleep(2_000_000)
        let flows = 100
        try #require(ConntrackdLossTests.insert(flows, in: link.a).status == 0)
        let query = { (what: String) in link.b.run([Shell.tandem, "conntrackd", "-C", b.directory + "/conntrackd.conf", what]).lines.count }
        try #require(FailoverNodeTests.waitUntil(20) { query("-e") == flows }, "B's external cache: \(query("-e"))")
        // A goes: B's own event socket is now the host's only listener, and B commits.
        nodeA.stop()
        try #require(FailoverNodeTests.waitUntil(10) { b.holdsVIP }, "\(Vectors.readText(b.log))")
        // Past the reconciling dump a second after the promotion: from here on only kernel
        // events tell B that a flow ended.
        usleep(2_000_000)
        let before = query("-i")
        _ = link.b.run(["conntrack", "-F"])
        var after = -1
        let forgotten = FailoverNodeTests.waitUntil(5) { after = query("-i"); return after == 0 }
        #expect(before == flows, "B's internal cache after the promotion: \(before)\n\(Vectors.readText(b.log))")
        #expect(forgotten, "B's internal cache still holds \(after) flows the kernel no longer has: their ends were never reported\n\(Vectors.readText(b.log))")
    }
}
