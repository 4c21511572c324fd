import Foundation
import TestSupport
import Testing

/// Two dedicated links between two Tandem nodes (spec §4.6): when the sending link goes
/// down, replication moves to the other one, and the move is logged.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct RedundantLinkTests {
    @Test func replicationMovesToTheSecondLinkWhenTheFirstGoesDown() throws {
        let link = try VethLink(tag: "rl", prefix: "tdl", addressA: "172.31.70.1/24", addressB: "172.31.70.2/24")
        defer { link.remove() }
        let second = (a: "tdm\(getpid() % 100000)a", b: "tdm\(getpid() % 100000)b")
        for argv in [
            ["ip", "link", "add", second.a, "netns", link.a.name, "type", "veth", "peer", "name", second.b, "netns", link.b.name],
            ["ip", "-n", link.a.name, "addr", "add", "172.31.71.1/24", "dev", second.a], ["ip", "-n", link.a.name, "link", "set", second.a, "up"],
            ["ip", "-n", link.b.name, "addr", "add", "172.31.71.2/24", "dev", second.b], ["ip", "-n", link.b.name, "link", "set", second.b, "up"],
        ] {
            let r = Shell.run(argv)
            #expect(r.status == 0, "\(argv): \(r.stderr)")
        }
        let dir = NSTemporaryDirectory() + "tdt-rl-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func config(_ name: String, _ links: [(me: String, peer: String, dev: String)]) throws {
            var blocks = ""
            for (i, l) in links.enumerated() {
                blocks += """
                    UDP \(i == 0 ? "Default " : ""){
                        IPv4_address \(l.me)
                        IPv4_Destination_Address \(l.peer)
                        Port 3780
                        Interface \(l.dev)
                    }

                """
            }
            let text = "Sync {\n    Mode FTFW {\n    }\n\(blocks)}\nGeneral {\n    LockFile \(dir)/\(name).lock\n    UNIX {\n        Path \(dir)/\(name).ctl\n    }\n}\n"
            try text.write(toFile: "\(dir)/\(name).conf", atomically: true, encoding: .utf8)
        }
        try config("a", [("172.31.70.1", "172.31.70.2", link.interfaceA), ("172.31.71.1", "172.31.71.2", second.a)])
        try config("b", [("172.31.70.2", "172.31.70.1", link.interfaceB), ("172.31.71.2", "172.31.71.1", second.b)])
        let a = try link.a.start([Shell.tandem, "conntrackd", "-C", "\(dir)/a.conf"], stdout: "\(dir)/a.out", stderr: "\(dir)/a.err")
        defer { a.stop() }
        let b = try link.b.start([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf"], stdout: "\(dir)/b.out", stderr: "\(dir)/b.err")
        defer { b.stop() }
        usleep(1_500_000)
        func insert(_ port: Int) {
            link.a.run(["conntrack", "-I", "-p", "tcp", "-s", "10.5.0.1", "-d", "10.6.0.1", "--sport", String(port), "--dport", "22",
                        "--state", "ESTABLISHED", "-t", "300", "-u", "SEEN_REPLY,ASSURED"])
        }
        func arrived(_ port: Int) -> Bool {
            let end = Date().addingTimeInterval(10)
            while Date() < end {
                if link.b.run([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf", "-e"]).stdout.contains("sport=\(port) ") { return true }
                usleep(100_000)
            }
            return false
        }
        insert(1111)
        #expect(arrived(1111), "over the first link")
        #expect(link.a.run(["ip", "link", "set", link.interfaceA, "down"]).status == 0)
        usleep(1_500_000)
        insert(2222)
        #expect(arrived(2222), "over the second link: \(Vectors.readText("\(dir)/a.err"))")
        #expect(Vectors.readText("\(dir)/a.err").contains("device `\(second.a)' becomes dedicated link"))
    }
}
