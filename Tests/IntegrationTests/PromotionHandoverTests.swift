import Foundation
import TestSupport
import Testing

/// A promotion while the old master still forwards (here its adverts no longer reach B,
/// and the sync link is up): flows that end on the old master just after B committed its
/// table must end in B's kernel too, or they live on there (and, recommitted at every
/// failover, for ever). The control, with the handover off (test-only), keeps them.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft"), "needs root, conntrack and nft"))
struct PromotionHandoverTests {
    static let flows = 2_000

    @Test(arguments: [true, false])
    func flowsTheOldMasterEndsJustAfterThePromotionEndInTheNewMastersKernel(handover: Bool) throws {
        let pair = try RunPair(tag: handover ? "pho" : "phc", prefix: "tdw", subnet: "10.93.0",
                               environmentB: handover ? [] : ["TANDEM_TEST_NO_HANDOVER=1"])
        defer { pair.remove() }
        let (link, b) = (pair.link, pair.b)
        try #require(ConntrackdLossTests.insert(Self.flows, in: link.a).status == 0)
        try #require(FailoverNodeTests.waitUntil(20) { pair.count("-e", on: b) == Self.flows }, "B's external cache: \(pair.count("-e", on: b))")
        try pair.cutVRRPToB()
        try #require(FailoverNodeTests.waitUntil(10) { b.holdsVIP }, "\(Vectors.readText(b.log))")
        let inB = { link.b.run(["conntrack", "-L", "-p", "tcp", "--dport", "80"]).stdout.split(separator: "\n").count }
        let committed = inB()
        // Half the flows end on A at once.
        let cut = link.a.run([ConntrackdLossTests.bench, "delete", String(Self.flows / 2), "--batch", "500"])
        try #require(cut.status == 0, "\(cut.stdout)\(cut.stderr)")
        var left = -1
        let ended = FailoverNodeTests.waitUntil(handover ? 10 : 4) { left = inB(); return left == Self.flows / 2 }
        let log = Vectors.readText(b.log)
        #expect(committed == Self.flows, "B committed \(committed) of \(Self.flows)\n\(log)")
        // The counters, from `tandem status --json`.
        let counters = b.statusDocument()["handover"] as? [String: Int] ?? [:]
        if handover {
            #expect(ended, "B's kernel still holds \(left) flows, A \(Self.flows / 2)\n\(log)")
            #expect(log.contains("handover: for"), "\(log)")
            #expect(counters["windows"] == 1 && counters["destroyed"] == Self.flows / 2 && counters["failed"] == 0, "\(counters)")
        } else {
            #expect(counters["windows"] == 0 && counters["destroyed"] == 0, "\(counters)")
            #expect(!ended && left == Self.flows, "without the handover B's kernel holds \(left) flows: the ends reached it anyway")
        }
    }
}
