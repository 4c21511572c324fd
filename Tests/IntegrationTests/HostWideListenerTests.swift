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
        let pair = try RunPair(tag: "hwl", prefix: "tdh", subnet: "10.94.0")
        defer { pair.remove() }
        let (link, b) = (pair.link, pair.b)
        let flows = 100
        try #require(ConntrackdLossTests.insert(flows, in: link.a).status == 0)
        let query = { (what: String) in pair.count(what, on: b) }
        try #require(FailoverNodeTests.waitUntil(20) { query("-e") == flows }, "B's external cache: \(query("-e"))")
        // A goes: B's own event socket is now the host's only listener, and B commits.
        pair.nodeA?.stop()
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
