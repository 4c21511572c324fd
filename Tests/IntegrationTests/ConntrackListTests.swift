import Conntrack
import Foundation
import TestSupport
import Testing

/// `tandem conntrack` against the real kernel table and the real conntrack(8), inside
/// namespaces of its own.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct ConntrackListTests {
    static let flows: [String] = [
        "-p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 80 --state ESTABLISHED -t 100 -u ASSURED,SEEN_REPLY -m 7",
        "-p tcp -s 10.1.1.2 -d 10.2.2.2 --sport 1001 --dport 80 --state SYN_SENT -t 100",
        "-p udp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 53 -t 30",
        "-p icmp -s 10.1.1.1 -d 10.2.2.2 --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 30",
        "-p icmpv6 -s ::1 -d ::2 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 5 -t 30",
        "-p tcp -s 2001:db8::1 -d 2001:db8::2 --sport 5 --dport 6 --state SYN_SENT -t 30 -w 3",
        "-p sctp -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 --state ESTABLISHED --orig-vtag 10 --reply-vtag 11 -t 30",
        "-p gre -s 10.1.1.1 -d 10.2.2.2 --srckey 5 --dstkey 6 -t 30",
        "-p udplite -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 -t 30",
        "-p tcp -s 10.3.3.3 -d 10.4.4.4 --sport 22 --dport 2222 -r 10.4.4.4 -q 10.9.9.9 --reply-port-src 2222 --reply-port-dst 22 --state ESTABLISHED -t 50 -m 1",
    ]

    static func args(_ s: String) -> [String] { s.split(separator: " ").map(String.init) }

    /// Timeouts tick once a second, so two listings can straddle a tick; equal output
    /// must show up within a few tries.
    static func sameListing(_ ns: TestNamespace, _ options: [String]) -> (Bool, String, String) {
        var last = ("", "")
        for _ in 0..<5 {
            let ours = ns.tandem(["conntrack", "-L"] + options)
            let theirs = ns.run(["conntrack", "-L"] + options)
            last = (ours.stdout + ours.stderr, theirs.stdout + theirs.stderr)
            if ours.stdout == theirs.stdout && ours.stderr == theirs.stderr && ours.status == theirs.status { return (true, last.0, last.1) }
        }
        return (false, last.0, last.1)
    }

    @Test func listingEqualsConntrackForEveryProtocolAndFamily() throws {
        let ns = try TestNamespace("list")
        defer { ns.remove() }
        ns.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1"])
        for f in Self.flows {
            let r = ns.run(["conntrack", "-I"] + Self.args(f))
            #expect(r.status == 0, "\(f): \(r.stderr)")
        }
        for options in [[], ["-o", "extended"], ["-o", "extended,id"], ["-p", "tcp"], ["-f", "ipv6"],
                        ["-s", "10.1.1.1"], ["-s", "10.1.1.0/24"], ["-p", "tcp", "--dport", "80"], ["-m", "7"],
                        ["-w", "3"], ["-p", "icmp"], ["-r", "10.4.4.4"], ["-q", "10.9.9.9"], ["-u", "ASSURED"],
                        ["-o", "xml"], ["-o", "xml,id"], ["-p", "udp", "-o", "xml"], ["-s", "99.9.9.9", "-o", "xml"]] {
            let (same, ours, theirs) = Self.sameListing(ns, options)
            #expect(same, "conntrack -L \(options.joined(separator: " "))\n--- tandem\n\(ours)\n--- conntrack\n\(theirs)")
        }
        let count = ns.tandem(["conntrack", "-C"])
        #expect(count.stdout == ns.run(["conntrack", "-C"]).stdout)
    }

    @Test func flowsCreatedByTandemListIdenticallyInConntrack() throws {
        let ours = try TestNamespace("icreate")
        let theirs = try TestNamespace("iref")
        defer { ours.remove(); theirs.remove() }
        for f in Self.flows {
            let a = ours.tandem(["conntrack", "-I"] + Self.args(f))
            let b = theirs.run(["conntrack", "-I"] + Self.args(f))
            #expect(a.status == b.status, "\(f)")
            #expect(a.stderr == b.stderr, "\(f)")
        }
        // Creation moments differ, so compare with the remaining-timeout column blanked.
        func normalised(_ ns: TestNamespace) -> [String] {
            ns.run(["conntrack", "-L"]).lines.map { line in
                var t = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                if let i = t.indices.dropFirst(2).first(where: { !t[$0].isEmpty }), Int(t[i]) != nil { t[i] = "T" }
                return t.joined(separator: " ")
            }.sorted()
        }
        let a = normalised(ours)
        #expect(a.count == Self.flows.count)
        #expect(a == normalised(theirs))
        // A second create of the same flow fails the way conntrack's does.
        let again = ours.tandem(["conntrack", "-I"] + Self.args(Self.flows[2]))
        #expect(again.status == 1)
        #expect(again.stderr.contains("Operation failed: Such conntrack exists, try -U to update"))
    }

    @Test func getDeleteUpdateAndFlushActOnTheKernelTable() throws {
        let ns = try TestNamespace("ops")
        defer { ns.remove() }
        for f in Self.flows.prefix(4) { ns.run(["conntrack", "-I"] + Self.args(f)) }
        let get = ns.tandem(["conntrack", "-G", "-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1000", "--dport", "80"])
        #expect(get.status == 0)
        #expect(get.stdout.hasPrefix("tcp      6 "))
        #expect(get.stdout.contains("mark=7"))
        let missing = ns.tandem(["conntrack", "-G", "-p", "tcp", "-s", "10.1.1.9", "-d", "10.2.2.2", "--sport", "1", "--dport", "2"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("such conntrack doesn't exist"))

        let del = ns.tandem(["conntrack", "-D", "-p", "udp"])
        #expect(del.stderr.contains("1 flow entries have been deleted."))
        #expect(ns.run(["conntrack", "-L", "-p", "udp"]).lines.isEmpty)

        let upd = ns.tandem(["conntrack", "-U", "-p", "tcp", "-m", "42"])
        #expect(upd.status == 0, "\(upd.stderr)")
        #expect(upd.stderr.contains("2 flow entries have been updated."))
        #expect(ns.run(["conntrack", "-L", "-m", "42"]).lines.count == 2)

        #expect(ns.run(["conntrack", "-C"]).stdout == "3\n")
        let flush = ns.tandem(["conntrack", "-F"])
        #expect(flush.stderr.contains("connection tracking table has been emptied."))
        #expect(ns.run(["conntrack", "-C"]).stdout == "0\n")
    }

    @Test func statisticsAndOtherTablesMatchConntrack() throws {
        let ns = try TestNamespace("stats")
        defer { ns.remove() }
        for f in Self.flows.prefix(3) { ns.run(["conntrack", "-I"] + Self.args(f)) }
        for argv in [["-S"], ["-L", "dying"], ["-L", "unconfirmed"], ["-C"]] {
            let ours = ns.tandem(["conntrack"] + argv)
            let theirs = ns.run(["conntrack"] + argv)
            #expect(ours.stdout == theirs.stdout, "\(argv)\n--- tandem\n\(ours.stdout)--- conntrack\n\(theirs.stdout)")
            #expect(ours.stderr == theirs.stderr, "\(argv)")
            #expect(ours.status == theirs.status, "\(argv)")
        }
    }

    @Test func badCommandLinesExitLikeConntrack() throws {
        let ns = try TestNamespace("usage")
        defer { ns.remove() }
        for argv in [["-L", "-x"], ["-L", "-L"], ["-I", "-p", "tcp", "-s", "1.1.1.1"], ["-L", "-p", "foo"]] {
            let ours = ns.tandem(["conntrack"] + argv)
            let theirs = ns.run(["conntrack"] + argv)
            #expect(ours.status == theirs.status, "\(argv)")
            #expect(ours.stderr == theirs.stderr, "\(argv)")
        }
    }
}
