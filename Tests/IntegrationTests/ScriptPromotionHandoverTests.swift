import Foundation
import TestSupport
import Testing

/// The seed's promotion: keepalived's notify script runs `tandem conntrackd -c` on the new
/// master while the old one may still forward for a moment. Flows the old master ends just
/// after the commit must end in the new master's kernel too (the handover `tandem run`
/// has, now on the script's path). The control, with the handover off (test-only), keeps
/// them. Two daemons as in QuietCommitTests (namespaces tqc-…).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct ScriptPromotionHandoverTests {
    static let flows = 2_000

    @Test(arguments: [true, false])
    func flowsEndedJustAfterTheScriptsCommitEndInTheKernel(handover: Bool) throws {
        let pair = try QuietCommitTests.Node2(handover ? "sho" : "shc", environmentB: handover ? [] : ["TANDEM_TEST_NO_HANDOVER=1"])
        defer { pair.stop() }
        usleep(1_500_000)
        let inserted = ConntrackdLossTests.insert(Self.flows, in: pair.a)
        try #require(inserted.status == 0, "\(inserted.stdout)\(inserted.stderr)")
        var have = 0
        let arrived = QuietCommitTests.waitUntil(40) { have = pair.active("b", "external"); return have == Self.flows }
        try #require(arrived, "B's external cache holds \(have) of \(Self.flows)")
        let commit = pair.cli("b", ["-c"])
        try #require(commit.status == 0, "\(commit.stderr)")
        let committed = pair.kernelCount(pair.b)
        // Half the flows end on A at once, as the old master's last moments.
        let cut = pair.a.run([ConntrackdLossTests.bench, "delete", String(Self.flows / 2), "--batch", "500"])
        try #require(cut.status == 0, "\(cut.stdout)\(cut.stderr)")
        var left = -1
        let ended = QuietCommitTests.waitUntil(handover ? 10 : 4) { left = pair.kernelCount(pair.b); return left == Self.flows / 2 }
        let log = pair.log
        #expect(committed == Self.flows, "B committed \(committed) of \(Self.flows)\n\(log)")
        if handover {
            #expect(ended, "B's kernel still holds \(left) flows, A \(Self.flows / 2)\n\(log)")
            #expect(log.contains("handover: for 2000 ms"), "\(log)")
        } else {
            #expect(!ended && left == Self.flows, "without the handover B's kernel holds \(left) flows: the ends reached it anyway")
            #expect(!log.contains("handover: for"), "\(log)")
        }
    }
}
