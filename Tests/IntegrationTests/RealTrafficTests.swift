import Conntrack
import Foundation
import TestSupport
import Testing

/// Flows made by real packets through a NAT router, with the FTP helper's expectation.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft") && Shell.which("python3"),
                             "needs root, conntrack(8), nft and python3"))
struct RealTrafficTests {
    @Test func natAndHelperFlowsListExactlyLikeConntrack() throws {
        let topo = try RoutedTopology(tag: "nat")
        defer { topo.remove() }
        let dir = NSTemporaryDirectory() + "tdt-traffic-\(getpid())-"
        defer {
            for f in ["ev.out", "ev.err", "xev.out", "xev.err", "srv.out", "srv.err", "cli.out", "cli.err"] {
                try? FileManager.default.removeItem(atPath: dir + f)
            }
        }
        let events = try topo.router.start([Shell.tandem, "conntrack", "-E"], stdout: dir + "ev.out", stderr: dir + "ev.err")
        defer { events.stop() }
        let expectEvents = try topo.router.start([Shell.tandem, "conntrack", "-E", "expect"], stdout: dir + "xev.out", stderr: dir + "xev.err")
        defer { expectEvents.stop() }
        usleep(300_000)
        let server = try topo.server.start(["python3", "-c", RoutedTopology.serverScript, "10"],
                                           stdout: dir + "srv.out", stderr: dir + "srv.err")
        defer { server.stop() }
        let client = try topo.client.start(["python3", "-c", RoutedTopology.clientScript, "8"],
                                           stdout: dir + "cli.out", stderr: dir + "cli.err")
        defer { client.stop() }
        // Wait (bounded) until the client has every session up.
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? String(contentsOfFile: dir + "cli.out", encoding: .utf8))?.contains("READY") == true
            if !ready { usleep(100_000) }
        }
        #expect(ready, "client: \((try? String(contentsOfFile: dir + "cli.err", encoding: .utf8)) ?? "")")
        topo.client.run(["ping", "-c", "2", "-i", "0.2", "-W", "1", RoutedTopology.serverV4])
        topo.client.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", RoutedTopology.serverV6])

        let listing = topo.router.run(["conntrack", "-L"]).stdout
        #expect(listing.contains("helper=ftp"), "\(listing)")
        #expect(listing.contains("dport=8080"), "DNAT flow missing: \(listing)")
        #expect(listing.contains("dst=10.77.2.1 "), "SNAT flow missing: \(listing)")
        #expect(listing.contains("icmpv6"), "\(listing)")

        for options in [[], ["-o", "extended"], ["-o", "xml"], ["-p", "tcp"], ["-f", "ipv6"], ["-n", "10.77.2.1"], ["-g", "10.77.2.2"]] {
            let (same, ours, theirs) = ConntrackListTests.sameListing(topo.router, options)
            #expect(same, "-L \(options)\n--- tandem\n\(ours)\n--- conntrack\n\(theirs)")
        }
        let theirsExpect = topo.router.run(["conntrack", "-L", "expect"])
        #expect(theirsExpect.stdout.contains("proto=6"), "no FTP expectation: \(theirsExpect.stdout)\(theirsExpect.stderr)")
        var matched = false
        var last = ""
        for _ in 0..<5 where !matched {
            let ours = topo.router.tandem(["conntrack", "-L", "expect"])
            let theirs = topo.router.run(["conntrack", "-L", "expect"])
            matched = ours.stdout == theirs.stdout && ours.stderr == theirs.stderr
            last = "--- tandem\n\(ours.stdout)\(ours.stderr)--- conntrack\n\(theirs.stdout)\(theirs.stderr)"
        }
        #expect(matched, "\(last)")

        // -I expect on the FTP control flow, then -D expect: both seen by conntrack(8).
        let control = try #require(listing.split(separator: "\n").first { $0.contains("dport=21 ") })
        let clientPort = try #require(control.split(separator: " ").first { $0.hasPrefix("sport=") }).dropFirst(6)
        let create = topo.router.tandem(["conntrack", "-I", "expect", "-p", "tcp", "-s", "10.77.1.2", "-d", "10.77.2.2",
                                         "--sport", String(clientPort), "--dport", "21",
                                         "--tuple-src", "10.77.1.2", "--tuple-dst", "10.77.2.2", "--tuple-port-src", "0",
                                         "--tuple-port-dst", "50001", "--mask-src", "255.255.255.255",
                                         "--mask-dst", "255.255.255.255", "--mask-port-src", "0", "--mask-port-dst", "0xffff",
                                         "-t", "100"])
        #expect(create.status == 0, "\(create.stderr)")
        // The FTP helper allows one expectation per master, so ours replaces the helper's.
        let now = topo.router.run(["conntrack", "-L", "expect"])
        #expect(now.lines.count == 1, "\(now.stdout)")
        #expect(now.stdout.contains("sport=0 dport=50001 mask-src=255.255.255.255"), "\(now.stdout)")
        #expect(now.stdout.contains("helper=ftp"), "\(now.stdout)")
        let removed = topo.router.tandem(["conntrack", "-D", "expect"])
        #expect(removed.stderr.contains("1 expectations have been deleted."), "\(removed.stderr)")
        #expect(topo.router.run(["conntrack", "-L", "expect"]).lines.isEmpty)
        usleep(300_000)
        expectEvents.interrupt()
        #expect(expectEvents.wait() == 0)
        let xlog = (try? String(contentsOfFile: dir + "xev.out", encoding: .utf8)) ?? ""
        #expect(xlog.split(separator: "\n").filter { $0.hasPrefix("    [NEW] ") }.count == 2, "\(xlog)")
        #expect(xlog.split(separator: "\n").filter { $0.hasPrefix("[DESTROY] ") }.count == 2, "\(xlog)")

        // Events for the same real traffic: packets made the NEW and UPDATE events, the
        // flush makes DESTROY events.
        topo.router.run(["conntrack", "-F"])
        usleep(300_000)
        events.interrupt()
        #expect(events.wait() == 0)
        let log = (try? String(contentsOfFile: dir + "ev.out", encoding: .utf8)) ?? ""
        #expect(log.contains("    [NEW] tcp      6 120 SYN_SENT src=10.77.1.2 dst=10.77.1.1 "), "\(log)")
        #expect(log.contains(" [UPDATE] tcp      6 60 SYN_RECV src=10.77.1.2 dst=10.77.1.1 "), "\(log)")
        // The kernel rounds the time left down to whole seconds when it builds the event: a
        // clock tick between the ping's flow and its event (a loaded CI machine) makes it 29.
        #expect(["30", "29"].contains { log.contains("    [NEW] icmp     1 \($0) src=10.77.1.2 dst=10.77.2.2 type=8") }, "\(log)")
        #expect(log.contains("[DESTROY] tcp      6 "), "\(log)")
        #expect(log.contains("helper=ftp"), "\(log)")
    }
}
