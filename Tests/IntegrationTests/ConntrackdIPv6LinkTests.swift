import Foundation
import TestSupport
import Testing

/// UDP, TCP and Multicast dedicated links over IPv6 (IPv6_address / IPv6_Destination_Address,
/// or an IPv6 group joined on Interface), between
/// Tandem and Debian's conntrackd 1.4.7 both ways and between two Tandems, on a veth
/// pair carrying IPv6 only, in namespaces of their own (prefix tdn).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("conntrack"), "needs root, conntrackd and conntrack"))
struct ConntrackdIPv6LinkTests {
    static let flows: [[String]] = [
        ["-p", "tcp", "-s", "10.235.3.1", "-d", "10.235.4.1", "--sport", "1000", "--dport", "80", "--state", "ESTABLISHED", "-t", "100", "-u", "ASSURED,SEEN_REPLY"],
        ["-p", "udp", "-s", "10.235.3.1", "-d", "10.235.4.1", "--sport", "1000", "--dport", "53", "-t", "60"],
    ]

    @Test(arguments: [("tandem", "conntrackd", "UDP"), ("conntrackd", "tandem", "UDP"), ("tandem", "tandem", "UDP"),
                      ("tandem", "conntrackd", "TCP"), ("conntrackd", "tandem", "TCP"),
                      ("tandem", "conntrackd", "Multicast"), ("conntrackd", "tandem", "Multicast")])
    func flowsCrossAnIPv6Link(sender: String, receiver: String, link: String) throws {
        let a = try TestNamespace("v6a", prefix: "tdn")
        let b = try TestNamespace("v6b", prefix: "tdn")
        defer { a.remove(); b.remove() }
        let ifa = "tdn\(getpid() % 100000)a", ifb = "tdn\(getpid() % 100000)b"
        for argv in [
            ["ip", "link", "add", ifa, "netns", a.name, "type", "veth", "peer", "name", ifb, "netns", b.name],
            ["ip", "-n", a.name, "addr", "add", "fd00:235::1/64", "dev", ifa, "nodad"], ["ip", "-n", a.name, "link", "set", ifa, "up"],
            ["ip", "-n", b.name, "addr", "add", "fd00:235::2/64", "dev", ifb, "nodad"], ["ip", "-n", b.name, "link", "set", ifb, "up"],
        ] {
            let r = Shell.run(argv)
            #expect(r.status == 0, "\(argv): \(r.stderr)")
        }
        let dir = NSTemporaryDirectory() + "/\(a.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func config(_ name: String, _ me: String, _ peer: String, _ dev: String) throws {
            try """
            Sync {
                Mode FTFW {
                    DisableExternalCache Off
                }
                \(link) {
                    IPv6_address \(link == "Multicast" ? "ff02::5c" : me)
                    \(link == "Multicast" ? "Group 3780" : "IPv6_Destination_Address \(peer)\n        Port 3780")
                    Interface \(dev)
                    Checksum on
                }
            }
            General {
                LogFile \(dir)/\(name).log
                LockFile \(dir)/\(name).lock
                UNIX {
                    Path \(dir)/\(name).ctl
                }
                NetlinkEventsReliable on
            }

            """.write(toFile: "\(dir)/\(name).conf", atomically: true, encoding: .utf8)
        }
        try config("a", "fd00:235::1", "fd00:235::2", ifa)
        try config("b", "fd00:235::2", "fd00:235::1", ifb)
        func daemon(_ kind: String) -> [String] { kind == "tandem" ? [Shell.tandem, "conntrackd"] : ["conntrackd"] }
        let pa = try a.start(daemon(sender) + ["-C", "\(dir)/a.conf"], stdout: "\(dir)/a.out", stderr: "\(dir)/a.err")
        defer { pa.stop() }
        let pb = try b.start(daemon(receiver) + ["-C", "\(dir)/b.conf"], stdout: "\(dir)/b.out", stderr: "\(dir)/b.err")
        defer { pb.stop() }
        func external() -> [String] {
            b.run(daemon(receiver) + ["-C", "\(dir)/b.conf", "-e"]).lines.filter { $0.contains("src=10.235.3.1") }
        }
        usleep(1_500_000)
        // The control: nothing is there before the flows exist.
        #expect(external().isEmpty)
        for f in Self.flows { a.run(["conntrack", "-I"] + f) }
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            seen = external()
            if seen.count == Self.flows.count { break }
            usleep(100_000)
        }
        let logs = ["a.out", "a.err", "b.out", "b.err"].map { (try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8)) ?? "" }.joined(separator: "\n")
        #expect(seen.count == Self.flows.count, "\(sender) → \(receiver) over \(link)/IPv6: \(seen)\n\(logs)")
        #expect(seen.contains { $0.hasPrefix("tcp      6 ESTABLISHED src=10.235.3.1 dst=10.235.4.1 sport=1000 dport=80 ") }, "\(seen)")
    }
}
