import Foundation
import TestSupport
import Testing

/// A hardened IPv6 Multicast receiver started before its interface's link-local address
/// exists: conntrackd's sender speaks from its own link-local address, which is on that
/// subnet only once the receiver has one too. The receiver reads its subnets again when a
/// source is refused, so the flow arrives. What shows the case was met: the receiver had
/// no link-local address when it started (asserted). Without the re-read the flow never
/// arrives: checked by hand on the change that added it, where this test then failed.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("conntrack"), "needs root, conntrackd and conntrack"))
struct LateLinkLocalTests {
    @Test func aLinkLocalThatComesLaterIsAdmitted() throws {
        let a = try TestNamespace("lla", prefix: "tdll")
        let b = try TestNamespace("llb", prefix: "tdll")
        defer { a.remove(); b.remove() }
        let ifa = "tdll\(getpid() % 100000)a", ifb = "tdll\(getpid() % 100000)b"
        for argv in [
            ["ip", "link", "add", ifa, "netns", a.name, "type", "veth", "peer", "name", ifb, "netns", b.name],
            ["ip", "-n", a.name, "addr", "add", "fd00:236::1/64", "dev", ifa, "nodad"], ["ip", "-n", a.name, "link", "set", ifa, "up"],
            // The receiver's link stays down: it has its global address but no link-local yet.
            ["ip", "-n", b.name, "addr", "add", "fd00:236::2/64", "dev", ifb, "nodad"],
        ] {
            let r = Shell.run(argv)
            #expect(r.status == 0, "\(argv): \(r.stderr)")
        }
        let dir = NSTemporaryDirectory() + "/\(a.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, dev) in [("a", ifa), ("b", ifb)] {
            try """
            Sync {
                Mode FTFW {
                    DisableExternalCache Off
                }
                Multicast {
                    IPv6_address ff02::5d
                    Group 3781
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
        let pb = try b.start([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf"], stdout: "\(dir)/b.out", stderr: "\(dir)/b.err")
        defer { pb.stop() }
        usleep(500_000)
        let before = b.run(["ip", "-6", "addr", "show", "dev", ifb, "scope", "link"]).stdout
        #expect(!before.contains("fe80"), "the receiver already had a link-local address: \(before)")
        Shell.run(["ip", "-n", b.name, "link", "set", ifb, "up"])
        #expect(eventually(within: 10) { b.run(["ip", "-6", "addr", "show", "dev", ifb, "scope", "link"]).stdout.contains("fe80") && !b.run(["ip", "-6", "addr", "show", "dev", ifb, "scope", "link"]).stdout.contains("tentative") })
        let pa = try a.start(["conntrackd", "-C", "\(dir)/a.conf"], stdout: "\(dir)/a.out", stderr: "\(dir)/a.err")
        defer { pa.stop() }
        usleep(1_500_000)
        a.run(["conntrack", "-I", "-p", "udp", "-s", "10.236.9.1", "-d", "10.236.9.2", "--sport", "1", "--dport", "53", "-t", "60"])
        let arrived = eventually(within: 10) {
            b.run([Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf", "-e"]).stdout.contains("src=10.236.9.1")
        }
        let log = (try? String(contentsOfFile: "\(dir)/b.err", encoding: .utf8)) ?? ""
        #expect(arrived, "the flow did not arrive\n\(log)")
    }
}
