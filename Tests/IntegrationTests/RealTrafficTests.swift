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
        let dir = NSTemporaryDirectory()
        let events = try topo.router.start([Shell.tandem, "conntrack", "-E"], stdout: dir + "tdt-ev.out", stderr: dir + "tdt-ev.err")
        defer { events.stop() }
        usleep(300_000)
        let server = try topo.server.start(["python3", "-c", RoutedTopology.serverScript, "10"],
                                           stdout: dir + "tdt-srv.out", stderr: dir + "tdt-srv.err")
        defer { server.stop() }
        let client = try topo.client.start(["python3", "-c", RoutedTopology.clientScript, "8"],
                                           stdout: dir + "tdt-cli.out", stderr: dir + "tdt-cli.err")
        defer { client.stop() }
        // Wait (bounded) until the client has every session up.
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? String(contentsOfFile: dir + "tdt-cli.out", encoding: .utf8))?.contains("READY") == true
            if !ready { usleep(100_000) }
        }
        #expect(ready, "client: \((try? String(contentsOfFile: dir + "tdt-cli.err", encoding: .utf8)) ?? "")")
        topo.client.run(["ping", "-c", "2", "-i", "0.2", "-W", "1", RoutedTopology.serverV4])
        topo.client.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", RoutedTopology.serverV6])

        let listing = topo.router.run(["conntrack", "-L"]).stdout
        #expect(listing.contains("helper=ftp"), "\(listing)")
        #expect(listing.contains("dport=8080"), "DNAT flow missing: \(listing)")
        #expect(listing.contains("dst=10.77.2.1 "), "SNAT flow missing: \(listing)")
        #expect(listing.contains("icmpv6"), "\(listing)")

        for options in [[], ["-o", "extended"], ["-p", "tcp"], ["-f", "ipv6"], ["-n", "10.77.2.1"], ["-g", "10.77.2.2"]] {
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

        // Events for the same real traffic: packets made the NEW and UPDATE events, the
        // flush makes DESTROY events.
        topo.router.run(["conntrack", "-F"])
        usleep(300_000)
        events.interrupt()
        #expect(events.wait() == 0)
        let log = (try? String(contentsOfFile: dir + "tdt-ev.out", encoding: .utf8)) ?? ""
        #expect(log.contains("    [NEW] tcp      6 120 SYN_SENT src=10.77.1.2 dst=10.77.1.1 "), "\(log)")
        #expect(log.contains(" [UPDATE] tcp      6 60 SYN_RECV src=10.77.1.2 dst=10.77.1.1 "), "\(log)")
        #expect(log.contains("    [NEW] icmp     1 30 src=10.77.1.2 dst=10.77.2.2 type=8"), "\(log)")
        #expect(log.contains("[DESTROY] tcp      6 "), "\(log)")
        #expect(log.contains("helper=ftp"), "\(log)")
    }
}
