import Foundation
import TestSupport
import Testing

/// Which link a refusal arrived on (issue #15): two keyed `tandem conntrackd` joined by
/// two UDP links; datagrams without the envelope sent to B's address on the second link
/// are counted on B's second channel, in `tandem status --json` and in `-s network`. The
/// control: the same datagrams on the first link are counted on the first channel, and
/// the second's count does not move — the views name the link, not just the node.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct ChannelRefusalTests {
    static let key = "tsk-channel-refusal-key-0123456789abcdef01234567"

    @Test func refusalsAreCountedOnTheLinkTheyArrivedOn() throws {
        let link = try VethLink(tag: "crf", prefix: "tsk", addressA: "172.31.80.1/24", addressB: "172.31.80.2/24", namespacePrefix: "tsk")
        defer { link.remove() }
        let second = (a: "tsl\(getpid() % 100000)a", b: "tsl\(getpid() % 100000)b")
        for argv in [
            ["ip", "link", "add", second.a, "netns", link.a.name, "type", "veth", "peer", "name", second.b, "netns", link.b.name],
            ["ip", "-n", link.a.name, "addr", "add", "172.31.81.1/24", "dev", second.a], ["ip", "-n", link.a.name, "link", "set", second.a, "up"],
            ["ip", "-n", link.b.name, "addr", "add", "172.31.81.2/24", "dev", second.b], ["ip", "-n", link.b.name, "link", "set", second.b, "up"],
        ] {
            let r = Shell.run(argv)
            try #require(r.status == 0, "\(argv): \(r.stderr)")
        }
        let dir = NSTemporaryDirectory() + "tsk-crf-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keyPath = dir + "/sync.key"
        let fd = open(keyPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array((Self.key + "\n").utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        func config(_ name: String, _ links: [(me: String, peer: String, dev: String)]) throws {
            var blocks = ""
            for (i, l) in links.enumerated() {
                blocks += "    UDP \(i == 0 ? "Default " : ""){\n        IPv4_address \(l.me)\n        IPv4_Destination_Address \(l.peer)\n"
                    + "        Port 3780\n        Interface \(l.dev)\n    }\n"
            }
            let text = "Sync {\n    Mode FTFW {\n    }\n\(blocks)}\nGeneral {\n    LockFile \(dir)/\(name).lock\n"
                + "    LogFile \(dir)/\(name).log\n    UNIX {\n        Path \(dir)/\(name).ctl\n    }\n}\n"
            try text.write(toFile: "\(dir)/\(name).conf", atomically: true, encoding: .utf8)
        }
        try config("a", [("172.31.80.1", "172.31.80.2", link.interfaceA), ("172.31.81.1", "172.31.81.2", second.a)])
        try config("b", [("172.31.80.2", "172.31.80.1", link.interfaceB), ("172.31.81.2", "172.31.81.1", second.b)])
        let b = try link.b.start([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf", "--sync-key", keyPath], stdout: "\(dir)/b.out", stderr: "\(dir)/b.err")
        defer { b.stop() }
        let a = try link.a.start([Shell.tandem, "conntrackd", "-C", "\(dir)/a.conf", "--sync-key", keyPath], stdout: "\(dir)/a.out", stderr: "\(dir)/a.err")
        defer { a.stop() }

        /// `count` datagrams without the envelope from A's address on one link to B's
        /// sync port there (bounded: a fixed count, each a single write).
        func junk(to address: String, count: Int) {
            let r = link.a.run(["bash", "-c", "for i in $(seq \(count)); do printf 'not-a-sync-frame-%s' $i > /dev/udp/\(address)/3780; done"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        /// B's channels' unauthenticated refusals, from its JSON status.
        func refusedByChannel() -> [Int] {
            let r = link.b.run([Shell.tandem, "status", "--json", "-C", "\(dir)/b.conf"])
            guard r.status == 0, let j = try? JSONValue.parse(r.stdout) else { return [] }
            return (0..<2).map { j["sync"]?["channels"]?[$0]?["authenticationRefused"]?["notAuthenticated"]?.int.map { Int($0) } ?? -1 }
        }
        func logs() -> String {
            "--- B:\n\(Vectors.readText("\(dir)/b.log"))\(Vectors.readText("\(dir)/b.err"))\n--- B network:\n"
                + link.b.run([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf", "-s", "network"]).stdout
        }
        usleep(1_500_000)
        // The keyed pair itself is refused nothing on either link.
        #expect(refusedByChannel() == [0, 0], "\(logs())")

        junk(to: "172.31.81.2", count: 30)
        var seen: [Int] = []
        #expect(eventually(within: 10) { seen = refusedByChannel(); return seen == [0, 30] }, "after 30 on the second link: \(seen)\n\(logs())")
        // The control: the first link's datagrams land on the first channel only.
        junk(to: "172.31.80.2", count: 20)
        #expect(eventually(within: 10) { seen = refusedByChannel(); return seen == [20, 30] }, "after 20 on the first link: \(seen)\n\(logs())")

        let network = link.b.run([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf", "-s", "network"]).stdout
        #expect(ConntrackdLossTests.tabbedCounter(network, "Not authenticated:") == 50, "\(network)")
        let byLink = network.components(separatedBy: "refused by link (tandem):\n").last ?? ""
        let blocks = byLink.components(separatedBy: "\tUDP device=")
        #expect(blocks.count == 3, "\(network)")
        if blocks.count == 3 {
            #expect(blocks[1].hasPrefix(link.interfaceB + ":") && ConntrackdLossTests.tabbedCounter(blocks[1], "auth not authenticated:") == 20, "\(network)")
            #expect(blocks[2].hasPrefix(second.b + ":") && ConntrackdLossTests.tabbedCounter(blocks[2], "auth not authenticated:") == 30, "\(network)")
        }
    }
}
