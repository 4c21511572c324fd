import Foundation
import TestSupport
import Testing

/// Split-brain detection in a live `tandem run` pair (A master at priority 200, B backup at
/// 100, VRRP and sync on one link, advert_int 1). Parts of the link are cut with nft in the
/// nodes' own namespaces; each node's `tandem status --json` says what it reported.
/// - VRRP cut both ways: B takes over while A's sync messages still arrive: B reports
///   `vrrpLostSyncAlive`. A hears nothing of it (a backup never advertises): docs/status.md.
/// - VRRP cut one way (A's adverts do not reach B): B reports `vrrpLostSyncAlive`, and A,
///   hearing B claim MASTER for a whole Master_Down_Interval, reports `bothMaster`.
/// - sync cut both ways: B, still hearing A's adverts, reports `syncLostVRRPAlive`.
/// - the control, nothing cut, the same time: neither reports anything.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft"), "needs root, conntrack and nft"))
struct SplitBrainTests {
    enum Cut: String, CaseIterable { case vrrpBothWays, vrrpOneWay, sync, none }

    static func drop(_ rule: String, in ns: TestNamespace) throws {
        for argv in [["nft", "add", "table", "inet", "tdsb"],
                     ["nft", "add", "chain", "inet", "tdsb", "in", "{ type filter hook input priority 0; }"],
                     ["nft", "add", "rule", "inet", "tdsb", "in"] + rule.split(separator: " ").map(String.init)] {
            let r = ns.run(argv)
            try #require(r.status == 0, "\(argv): \(r.stderr)")
        }
    }

    static func reports(_ node: FailoverNodeTests.Node) -> [String: Int] {
        let r = node.namespace.run([Shell.tandem, "status", "--json", "-C", node.directory + "/conntrackd.conf"])
        let document = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let splitBrain = document?["splitBrain"] as? [String: Any]
        return splitBrain?["reports"] as? [String: Int] ?? [:]
    }

    @Test(arguments: Cut.allCases)
    func eachHalfReportsWhatItCanSee(cut: Cut) throws {
        let pair = try RunPair(tag: "sb\(cut.rawValue.prefix(3))", prefix: "tdsb", subnet: "10.96.0")
        defer { pair.remove() }
        let (link, a, b) = (pair.link, pair.a, pair.b)
        let none = ["bothMaster": 0, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 0]
        #expect(Self.reports(a) == none && Self.reports(b) == none)
        switch cut {
        case .vrrpBothWays:
            try Self.drop("ip protocol vrrp drop", in: link.a)
            try Self.drop("ip protocol vrrp drop", in: link.b)
        case .vrrpOneWay:
            try Self.drop("ip protocol vrrp drop", in: link.b)
        case .sync:
            try Self.drop("udp dport 3780 drop", in: link.a)
            try Self.drop("udp dport 3780 drop", in: link.b)
        case .none:
            break
        }
        // Master_Down_Interval is about 3.6 s here: every report is due well within 12 s.
        var (seenA, seenB) = (none, none)
        let expectedA = cut == .vrrpOneWay ? ["bothMaster": 1, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 0] : none
        let expectedB: [String: Int] = switch cut {
        case .vrrpBothWays, .vrrpOneWay: ["bothMaster": 0, "vrrpLostSyncAlive": 1, "syncLostVRRPAlive": 0]
        case .sync: ["bothMaster": 0, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 1]
        case .none: none
        }
        let settled = FailoverNodeTests.waitUntil(12) {
            seenA = Self.reports(a)
            seenB = Self.reports(b)
            return cut != .none && seenA == expectedA && seenB == expectedB
        }
        if cut == .none {
            #expect(seenA == none && seenB == none, "A \(seenA), B \(seenB)")
            #expect(!Vectors.readText(a.log).contains("SPLIT BRAIN") && !Vectors.readText(b.log).contains("SPLIT BRAIN"))
        } else {
            #expect(settled, "A \(seenA), B \(seenB)\nA: \(Vectors.readText(a.log))\nB: \(Vectors.readText(b.log))")
            let reporter = cut == .vrrpOneWay ? a : b
            #expect(Vectors.readText(reporter.log).contains("SPLIT BRAIN suspected"), "\(Vectors.readText(reporter.log))")
        }
    }

    /// `--peer-view` on both nodes (docs/split-brain.md), VRRP cut both ways: B takes over
    /// as above, and now A hears B's view claim MASTER over the sync path, so BOTH report.
    /// The control is `eachHalfReportsWhatItCanSee(cut: .vrrpBothWays)`: the same cut
    /// without the flag, where A reports nothing.
    @Test func withPeerViewsBothNodesReportAVRRPCutBothWays() throws {
        let flag = ["--peer-view", "3790"]
        let pair = try RunPair(tag: "sbpv", prefix: "tdsb", subnet: "10.96.0", arguments: (flag, flag))
        defer { pair.remove() }
        let (link, a, b) = (pair.link, pair.a, pair.b)
        let none = ["bothMaster": 0, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 0]
        #expect(Self.reports(a) == none && Self.reports(b) == none)
        // Before the cut each node holds the other's view: A MASTER, B BACKUP.
        #expect(FailoverNodeTests.waitUntil(5) { Self.peerStates(b) == ["MASTER"] && Self.peerStates(a) == ["BACKUP"] },
                "A sees \(Self.peerStates(a)), B sees \(Self.peerStates(b))")
        try Self.drop("ip protocol vrrp drop", in: link.a)
        try Self.drop("ip protocol vrrp drop", in: link.b)
        let expectedA = ["bothMaster": 1, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 0]
        // B is MASTER and hears A's view claim it too: both kinds hold on B.
        let expectedB = ["bothMaster": 1, "vrrpLostSyncAlive": 1, "syncLostVRRPAlive": 0]
        var (seenA, seenB) = (none, none)
        let settled = FailoverNodeTests.waitUntil(12) {
            seenA = Self.reports(a)
            seenB = Self.reports(b)
            return seenA == expectedA && seenB == expectedB
        }
        #expect(settled, "A \(seenA), B \(seenB)\nA: \(Vectors.readText(a.log))\nB: \(Vectors.readText(b.log))")
        #expect(Vectors.readText(a.log).contains("SPLIT BRAIN suspected (V): both master"), "\(Vectors.readText(a.log))")
        #expect(Vectors.readText(a.log).contains("peer view: V MASTER"), "\(Vectors.readText(a.log))")
    }

    /// The instance states in the node's `splitBrain.peerView`.
    static func peerStates(_ node: FailoverNodeTests.Node) -> [String] {
        let r = node.namespace.run([Shell.tandem, "status", "--json", "-C", node.directory + "/conntrackd.conf"])
        let document = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let view = (document?["splitBrain"] as? [String: Any])?["peerView"] as? [String: Any]
        return (view?["instances"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
    }
}
