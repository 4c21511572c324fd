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
}
