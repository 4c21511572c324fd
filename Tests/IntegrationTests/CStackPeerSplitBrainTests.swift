import Foundation
import TestSupport
import Testing

/// A `tandem run --peer-view` node whose peer is the C stack: keepalived 2.2.7 and
/// conntrackd 1.4.7 (docs/split-brain.md, "Beside conntrackd and keepalived"). The C node
/// A is master (priority 200), the Tandem node B its backup (100), VRRP and FTFW sync on
/// one link. No view ever comes from A, so B judges from VRRP and the sync link alone,
/// with conntrackd's once-a-second ALIVE as the sync pace:
/// - VRRP cut both ways: B takes over and still hears conntrackd: `vrrpLostSyncAlive`;
/// - sync cut both ways: B still hears keepalived's adverts: `syncLostVRRPAlive`;
/// - the control, nothing cut: nothing reported.
/// In every case nothing of the C peer's traffic is refused: B's sync link counts no
/// malformed or foreign datagram and its peer view no refusal, and conntrackd counts no
/// malformed message (B's views go to a port A does not listen on).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft") && Shell.which("conntrackd")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"),
                             "needs root, conntrack, nft, conntrackd and keepalived"))
struct CStackPeerSplitBrainTests {
    enum Cut: String, CaseIterable { case vrrpBothWays, sync, none }

    @Test(arguments: Cut.allCases)
    func aTandemBesideTheCStackReportsWhatVRRPAndSyncShow(cut: Cut) throws {
        let link = try VethLink(tag: "c\(cut.rawValue.prefix(3))", prefix: "tob", addressA: "10.96.9.1/24", addressB: "10.96.9.2/24",
                                namespacePrefix: "tob")
        let base = NSTemporaryDirectory() + "tob-cstack-\(cut.rawValue)-\(getpid())"
        let a = FailoverNodeTests.Node(namespace: link.a, interface: link.interfaceA, address: "10.96.9.1", peer: "10.96.9.2", directory: base + "/a")
        let b = FailoverNodeTests.Node(namespace: link.b, interface: link.interfaceB, address: "10.96.9.2", peer: "10.96.9.1", directory: base + "/b")
        var started: [Spawned] = []
        defer {
            for p in started.reversed() { p.stop() }
            link.remove()
            try? FileManager.default.removeItem(atPath: base)
        }
        try a.writeConfigs(priority: 200, state: "MASTER")
        try b.writeConfigs(priority: 100, state: "BACKUP")
        let dir = a.directory
        started.append(try a.namespace.start(["conntrackd", "-C", dir + "/conntrackd.conf"], stdout: dir + "/conntrackd.out", stderr: dir + "/conntrackd.err"))
        started.append(try a.namespace.start(["/usr/sbin/keepalived", "-n", "-l", "-D", "-f", dir + "/keepalived.conf", "-p", dir + "/k.pid",
                                              "-r", dir + "/v.pid", "-c", dir + "/c.pid"], stdout: dir + "/keepalived.out", stderr: dir + "/keepalived.err"))
        try #require(FailoverNodeTests.waitUntil(15) { a.holdsVIP }, "keepalived never became master: \(Vectors.readText(dir + "/keepalived.out"))")
        started.append(try b.start(demotion: 0, arguments: ["--peer-view", "3790"]))
        usleep(3_000_000)
        let none = ["bothMaster": 0, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 0]
        #expect(SplitBrainTests.reports(b) == none, "\(Vectors.readText(b.log))")
        switch cut {
        case .vrrpBothWays:
            try SplitBrainTests.drop("ip protocol vrrp drop", in: link.a)
            try SplitBrainTests.drop("ip protocol vrrp drop", in: link.b)
        case .sync:
            try SplitBrainTests.drop("udp dport 3780 drop", in: link.a)
            try SplitBrainTests.drop("udp dport 3780 drop", in: link.b)
        case .none:
            break
        }
        let expected: [String: Int] = switch cut {
        case .vrrpBothWays: ["bothMaster": 0, "vrrpLostSyncAlive": 1, "syncLostVRRPAlive": 0]
        case .sync: ["bothMaster": 0, "vrrpLostSyncAlive": 0, "syncLostVRRPAlive": 1]
        case .none: none
        }
        var seen = none
        let settled = FailoverNodeTests.waitUntil(12) {
            seen = SplitBrainTests.reports(b)
            return cut != .none && seen == expected
        }
        if cut == .none {
            #expect(seen == none, "B \(seen)\n\(Vectors.readText(b.log))")
        } else {
            #expect(settled, "B \(seen)\n\(Vectors.readText(b.log))")
        }
        // Nothing of the C peer's traffic refused, on either side.
        let status = b.statusDocument()
        let messages = (status["sync"] as? [String: Any])?["messages"] as? [String: Any] ?? [:]
        #expect((messages["malformed"] as? Int) == 0 && (messages["notFromPeer"] as? Int) == 0, "\(messages)")
        let view = (status["splitBrain"] as? [String: Any])?["peerView"] as? [String: Any]
        #expect(view?["lastHeardMs"] is NSNull, "\(String(describing: view))")
        #expect((view?["refused"] as? [String: Int] ?? ["?": 1]).values.allSatisfy { $0 == 0 }, "\(String(describing: view))")
        let network = a.namespace.run(["conntrackd", "-C", dir + "/conntrackd.conf", "-s", "network"]).stdout
        #expect(Self.counter("Malformed messages", in: network) == 0, "\(network)")
    }

    /// The number after `label:` in conntrackd's `-s` output, nil when absent.
    static func counter(_ label: String, in text: String) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains(label + ":") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int($0) }
    }
}
