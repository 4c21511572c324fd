import Foundation
import TestSupport
import Testing

/// Tandem's conntrackd paired with Debian's conntrackd 1.4.7 (and with itself) over FTFW
/// on a veth sync link between two namespaces, as in the seed.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("conntrack"), "needs root, conntrackd and conntrack"))
struct ConntrackdInteropTests {
    enum Implementation { case tandem, reference }

    final class Pair {
        let a: TestNamespace
        let b: TestNamespace
        let dir: String
        var daemons: [Spawned] = []
        let kinds: (Implementation, Implementation)

        let mode: String
        /// The dedicated link's kind: UDP, TCP or Multicast.
        let channel: String
        /// The middle namespace when the sync link runs through a `LossyRelay`.
        let relayNamespace: TestNamespace?
        let extra: Extra

        /// Lines added to the configuration's sections, for the tests that need more.
        struct Extra {
            var mode = ""
            var udp = ""
            var general = ""
            /// Lines in the Sync section itself (Options { … }).
            var sync = ""
            /// Lines in A's Mode section only (the sender's settings).
            var modeA = ""
            /// `NAME=value` settings in the environment of the Tandem daemons.
            var tandemEnvironment: [String] = []
        }

        /// With `relay`, A and B each reach a middle namespace (172.31.78.0/24 and
        /// 172.31.79.0/24) whose relay address is their sync peer.
        init(_ tag: String, a kindA: Implementation, b kindB: Implementation, mode: String = "FTFW",
             extra: Extra = Extra(), relay: Bool = false, channel: String = "UDP") throws {
            self.mode = mode
            self.channel = channel
            self.extra = extra
            kinds = (kindA, kindB)
            dir = NSTemporaryDirectory() + "tdt-\(tag)-\(getpid())"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if relay {
                a = try TestNamespace("\(tag)a")
                b = try TestNamespace("\(tag)b")
                let r = try TestNamespace("\(tag)r")
                relayNamespace = r
                let id = getpid() % 100000
                for argv in [
                    ["ip", "link", "add", "tdy\(id)a", "netns", a.name, "type", "veth", "peer", "name", "tdy\(id)ra", "netns", r.name],
                    ["ip", "link", "add", "tdy\(id)b", "netns", b.name, "type", "veth", "peer", "name", "tdy\(id)rb", "netns", r.name],
                    ["ip", "-n", a.name, "addr", "add", "172.31.78.1/24", "dev", "tdy\(id)a"], ["ip", "-n", a.name, "link", "set", "tdy\(id)a", "up"],
                    ["ip", "-n", r.name, "addr", "add", "172.31.78.2/24", "dev", "tdy\(id)ra"], ["ip", "-n", r.name, "link", "set", "tdy\(id)ra", "up"],
                    ["ip", "-n", r.name, "addr", "add", "172.31.79.2/24", "dev", "tdy\(id)rb"], ["ip", "-n", r.name, "link", "set", "tdy\(id)rb", "up"],
                    ["ip", "-n", b.name, "addr", "add", "172.31.79.1/24", "dev", "tdy\(id)b"], ["ip", "-n", b.name, "link", "set", "tdy\(id)b", "up"],
                ] {
                    let result = Shell.run(argv)
                    if result.status != 0 { a.remove(); b.remove(); r.remove(); throw TestSetupError("\(argv): \(result.stderr)") }
                }
                try config("a", "172.31.78.1", "172.31.78.2", "tdy\(id)a")
                try config("b", "172.31.79.1", "172.31.79.2", "tdy\(id)b")
            } else {
                let link = try VethLink(tag: tag, prefix: "tdx", addressA: "172.31.77.1/24", addressB: "172.31.77.2/24")
                a = link.a
                b = link.b
                relayNamespace = nil
                try config("a", "172.31.77.1", "172.31.77.2", link.interfaceA)
                try config("b", "172.31.77.2", "172.31.77.1", link.interfaceB)
            }
            daemons.append(try start(kindA, in: a, "a"))
            daemons.append(try start(kindB, in: b, "b"))
        }

        func config(_ name: String, _ me: String, _ peer: String, _ dev: String) throws {
            let modeItems = mode == "ALARM" ? "RefreshTime 5\n        CacheTimeout 60" : "DisableExternalCache Off"
            let text = """
            Sync {
                Mode \(mode) {
                    \(modeItems)
                    CommitTimeout 180
                    PurgeTimeout 5
                    \(extra.mode)
                    \(name == "a" ? extra.modeA : "")
                }
                \(channelBlock(me, peer, dev))
                \(extra.sync)
            }
            General {
                HashSize 32768
                HashLimit 131072
                LogFile \(dir)/\(name).log
                LockFile \(dir)/\(name).lock
                UNIX {
                    Path \(dir)/\(name).ctl
                }
                NetlinkEventsReliable on
                \(extra.general)
            }
            """
            try text.write(toFile: "\(dir)/\(name).conf", atomically: true, encoding: .utf8)
        }

        func channelBlock(_ me: String, _ peer: String, _ dev: String) -> String {
            switch channel {
            case "Multicast":
                return """
                Multicast {
                        IPv4_address 225.0.0.50
                        Group 3780
                        IPv4_interface \(me)
                        Interface \(dev)
                        Checksum on
                        \(extra.udp)
                    }
                """
            default:
                return """
                \(channel) {
                        IPv4_address \(me)
                        IPv4_Destination_Address \(peer)
                        Port 3780
                        Interface \(dev)
                        Checksum on
                        \(extra.udp)
                    }
                """
            }
        }

        func start(_ kind: Implementation, in ns: TestNamespace, _ name: String) throws -> Spawned {
            let binary = kind == .tandem ? ["env"] + extra.tandemEnvironment + [Shell.tandem, "conntrackd"] : ["conntrackd"]
            return try ns.start(binary + ["-C", "\(dir)/\(name).conf"], stdout: "\(dir)/\(name).out", stderr: "\(dir)/\(name).err")
        }

        /// `-e`/`-i`/… through the CLI of the node's own implementation; lines without the
        /// "[active since Ns]" suffix, sorted.
        func query(_ node: String, _ args: [String]) -> [String] {
            let ns = node == "a" ? a : b
            let kind = node == "a" ? kinds.0 : kinds.1
            let binary = kind == .tandem ? [Shell.tandem, "conntrackd"] : ["conntrackd"]
            let r = ns.run(binary + ["-C", "\(dir)/\(node).conf"] + args)
            return r.lines.map { line in
                guard let i = line.range(of: " [active since ") else { return line }
                var kept = String(line[..<i.lowerBound])
                if let e = kept.range(of: " [expires in ") { kept = String(kept[..<e.lowerBound]) }
                return kept
            }.sorted()
        }

        /// Waits (bounded) until `condition` holds.
        func eventually(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if condition() { return true }
                usleep(100_000)
            }
            return condition()
        }

        func stop() {
            for d in daemons { d.stop() }
            a.remove()
            b.remove()
            relayNamespace?.remove()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    static let flows: [[String]] = [
        ["-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1000", "--dport", "80", "--state", "ESTABLISHED", "-t", "100", "-u", "ASSURED,SEEN_REPLY", "-m", "7"],
        ["-p", "udp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1000", "--dport", "53", "-t", "30"],
        ["-p", "icmp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "4660", "-t", "30"],
        ["-p", "tcp", "-s", "2001:db8::10", "-d", "2001:db8:1::20", "--sport", "50000", "--dport", "22", "--state", "ESTABLISHED", "-t", "100", "-u", "ASSURED,SEEN_REPLY"],
    ]

    static let expectedLines = [
        "icmp     1 src=10.1.1.1 dst=10.2.2.2 type=8 code=0 id=4660 [UNREPLIED] mark=0",
        "tcp      6 ESTABLISHED src=10.1.1.1 dst=10.2.2.2 sport=1000 dport=80 [ASSURED] mark=7",
        "tcp      6 ESTABLISHED src=2001:db8::10 dst=2001:db8:1::20 sport=50000 dport=22 [ASSURED] mark=0",
        "udp      17 src=10.1.1.1 dst=10.2.2.2 sport=1000 dport=53 [UNREPLIED] mark=0",
    ]

    func replicate(_ pair: Pair, from: String, to: String) {
        let source = from == "a" ? pair.a : pair.b
        usleep(1_500_000) // both daemons up and through the HELLO handshake
        for f in Self.flows { source.run(["conntrack", "-I"] + f) }
        var last: [String] = []
        let arrived = pair.eventually { last = pair.query(to, ["-e"]); return last == Self.expectedLines }
        #expect(arrived, "\(to) -e:\n\(last.joined(separator: "\n"))")
        // The receiving side commits them into its kernel table.
        let target = to == "a" ? pair.a : pair.b
        _ = pair.query(to, ["-c"])
        var listing = ""
        let committed = pair.eventually(5) {
            listing = target.run(["conntrack", "-L"]).stdout
            return listing.contains("src=10.1.1.1 dst=10.2.2.2 sport=1000 dport=80") && listing.contains("dport=22 ")
        }
        #expect(committed, "\(listing)")
        // The same log lines from either daemon: scripts grep them.
        let log = (try? String(contentsOfFile: "\(pair.dir)/\(to).log", encoding: .utf8)) ?? ""
        for line in ["committing", "Committed 4 new entries", "commit has taken "] {
            #expect(log.contains(line), "\(to).log lacks \"\(line)\":\n\(log)")
        }
        // Destroys propagate.
        source.run(["conntrack", "-D", "-p", "udp"])
        let gone = pair.eventually { !pair.query(to, ["-e"]).contains { $0.hasPrefix("udp") } }
        #expect(gone)
    }

    @Test func tandemToReferenceConntrackd() throws {
        let pair = try Pair("t2c", a: .tandem, b: .reference)
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    @Test func referenceConntrackdToTandem() throws {
        let pair = try Pair("c2t", a: .reference, b: .tandem)
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
        // Tandem's -c wrote the flows with CommitTimeout as their timeout.
        #expect(pair.b.run(["conntrack", "-L", "-p", "tcp", "--dport", "80"]).stdout.contains("tcp      6 17"))
    }

    @Test(arguments: ["TCP", "Multicast"]) func tandemToReferenceConntrackdOver(channel: String) throws {
        let pair = try Pair("t2c\(channel.prefix(1))", a: .tandem, b: .reference, channel: channel)
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    @Test(arguments: ["TCP", "Multicast"]) func referenceConntrackdToTandemOver(channel: String) throws {
        let pair = try Pair("c2t\(channel.prefix(1))", a: .reference, b: .tandem, channel: channel)
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    /// DisableExternalCache: what the reference sends lands straight in Tandem's kernel
    /// table, `-e` stays empty, and a destroy removes the flow from the kernel again. The
    /// kernel's events of those writes are dropped before they reach Tandem's event socket
    /// ("Own commit echoes" 0); the control (TANDEM_TEST_NO_ECHO_FILTER) reads and skips them.
    @Test(arguments: [true, false]) func injectedStraightIntoTheKernel(echoFilter: Bool) throws {
        var extra = Pair.Extra()
        extra.mode = "DisableExternalCache On"
        if !echoFilter { extra.tandemEnvironment = ["TANDEM_TEST_NO_ECHO_FILTER=1"] }
        let pair = try Pair(echoFilter ? "inj" : "inc", a: .reference, b: .tandem, extra: extra)
        defer { pair.stop() }
        usleep(1_500_000)
        for f in Self.flows { pair.a.run(["conntrack", "-I"] + f) }
        var listing = ""
        let injected = pair.eventually {
            listing = pair.b.run(["conntrack", "-L"]).stdout
            return listing.contains("src=10.1.1.1 dst=10.2.2.2 sport=1000 dport=80") && listing.contains("dport=53")
                && listing.contains("dport=22 ")
        }
        #expect(injected, "\(listing)")
        #expect(pair.query("b", ["-e"]).isEmpty)
        pair.a.run(["conntrack", "-D", "-p", "udp"])
        let gone = pair.eventually { !pair.b.run(["conntrack", "-L", "-p", "udp"]).stdout.contains("dport=53") }
        #expect(gone)
        let stats = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-s"]).stdout
        #expect(stats.contains("external inject:"), "\(stats)")
        // Written without an ACK per flow: the counts still come from the kernel's answers.
        let inject = stats.components(separatedBy: "external inject:").last ?? ""
        let counts = { (label: String) -> (Int, Int)? in
            guard let line = inject.split(separator: "\n").first(where: { $0.hasPrefix(label) }) else { return nil }
            let n = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { Int($0) }
            return n.count == 2 ? (n[0], n[1]) : nil
        }
        let created = counts("connections created:"), destroyed = counts("connections destroyed:")
        #expect((created?.0 ?? 0) >= Self.flows.count && created?.1 == 0, "\(stats)")
        #expect((destroyed?.0 ?? 0) >= 1 && destroyed?.1 == 0, "\(stats)")
        let echoes = ConntrackdLossTests.counter(stats, "Own commit echoes") ?? -1
        #expect(echoFilter ? echoes == 0 : echoes >= Self.flows.count, "own echoes \(echoes)\n\(stats)")
    }

    /// DisableExternalCache and `-t` (a new backup's purge): the purge flushes the kernel
    /// table, where the peer's replicated flows are too; Tandem asks the peer for them again
    /// and holds them afterwards. The control is conntrackd 1.4.7 as B, whose table stays
    /// empty after the same purge.
    @Test(arguments: [Implementation.tandem, .reference]) func aPurgeWithoutExternalCacheGetsThePeersFlowsBack(_ backup: Implementation) throws {
        var extra = Pair.Extra()
        extra.mode = "DisableExternalCache On\n        PurgeTimeout 1"
        let pair = try Pair(backup == .tandem ? "pgt" : "pgc", a: .tandem, b: backup, extra: extra)
        defer { pair.stop() }
        usleep(1_500_000)
        for f in Self.flows { pair.a.run(["conntrack", "-I"] + f) }
        let inB = { pair.b.run(["conntrack", "-L", "-p", "udp"]).stdout.contains("dport=53") }
        try #require(pair.eventually(10, inB), "B never held the replicated flow")
        _ = pair.query("b", ["-t"])
        // The purge comes PurgeTimeout (1 s) later; then the flow is back only if asked for.
        let flushed = pair.eventually(5) { !inB() || Vectors.readText("\(pair.dir)/b.err").contains("flushed (purge)") }
        usleep(2_500_000)
        if backup == .tandem {
            #expect(flushed && Vectors.readText("\(pair.dir)/b.err").contains("kernel conntrack table flushed (purge)"))
            #expect(pair.eventually(10, inB), "B's kernel lacks the flow after the purge\n\(Vectors.readText("\(pair.dir)/b.err"))")
            #expect(pair.b.run(["conntrack", "-L"]).stdout.contains("dport=80"))
        } else {
            #expect(!inB(), "conntrackd's purge left the flow: the control cannot fail the test")
        }
    }

    /// Filter From Kernelspace: the kernel drops what the filter rejects before the daemon
    /// reads it (its "events received" and "events filtered" do not count those), and
    /// what passes is replicated as usual.
    @Test func kernelSpaceFilterDropsInTheKernel() throws {
        var extra = Pair.Extra()
        extra.general = """
        Filter From Kernelspace {
                Protocol Accept {
                    TCP
                    ICMP
                }
                Address Ignore {
                    IPv4_address 10.9.9.0/24
                }
                State Accept {
                    ESTABLISHED for TCP
                }
            }
        """
        let pair = try Pair("kfl", a: .tandem, b: .tandem, extra: extra)
        defer { pair.stop() }
        usleep(1_500_000)
        let flows: [[String]] = [
            ["-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1000", "--dport", "80", "--state", "ESTABLISHED", "-t", "100"],
            ["-p", "udp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1000", "--dport", "53", "-t", "30"],
            ["-p", "tcp", "-s", "10.9.9.9", "-d", "10.2.2.2", "--sport", "1001", "--dport", "80", "--state", "ESTABLISHED", "-t", "100"],
            ["-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1002", "--dport", "80", "--state", "SYN_SENT", "-t", "100"],
            ["-p", "icmp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--icmp-type", "8", "--icmp-code", "0", "--icmp-id", "7", "-t", "30"],
        ]
        for f in flows { pair.a.run(["conntrack", "-I"] + f) }
        var last: [String] = []
        let arrived = pair.eventually { last = pair.query("b", ["-e"]); return last.count == 2 }
        #expect(arrived, "\(last)")
        #expect(last.contains { $0.contains("sport=1000 dport=80") } && last.contains { $0.hasPrefix("icmp") }, "\(last)")
        usleep(500_000)
        #expect(pair.query("b", ["-e"]).count == 2)
        let runtime = pair.a.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/a.conf", "-s", "runtime"]).stdout
        #expect(runtime.contains("events filtered:\t                   0"), "\(runtime)")
        #expect(Vectors.readText("\(pair.dir)/a.err").contains("using kernel-space event filtering"))
    }

    @Test func tandemToTandem() throws {
        let pair = try Pair("t2t", a: .tandem, b: .tandem)
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    @Test func notrackTandemToReferenceConntrackd() throws {
        let pair = try Pair("n2c", a: .tandem, b: .reference, mode: "NOTRACK")
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    @Test func notrackReferenceConntrackdToTandem() throws {
        let pair = try Pair("c2n", a: .reference, b: .tandem, mode: "NOTRACK")
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    @Test func alarmTandemToReferenceConntrackd() throws {
        let pair = try Pair("a2c", a: .tandem, b: .reference, mode: "ALARM")
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    @Test func alarmReferenceConntrackdToTandem() throws {
        let pair = try Pair("c2a", a: .reference, b: .tandem, mode: "ALARM")
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
    }

    /// The control: with the sync link's traffic dropped, nothing replicates.
    @Test func withoutTheSyncLinkNothingArrives() throws {
        let pair = try Pair("ctl", a: .tandem, b: .reference)
        defer { pair.stop() }
        let r = pair.b.run(["nft", "add table inet tdt; add chain inet tdt in { type filter hook input priority 0; udp dport 3780 drop; }"])
        #expect(r.status == 0, "\(r.stderr)")
        usleep(1_500_000)
        for f in Self.flows { pair.a.run(["conntrack", "-I"] + f) }
        usleep(3_000_000)
        #expect(pair.query("b", ["-e"]).isEmpty)
        // …while the sending side has them in its internal cache.
        #expect(pair.query("a", ["-i"]).count == Self.flows.count)
    }
}
