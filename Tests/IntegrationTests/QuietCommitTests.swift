import Foundation
import TestSupport
import Testing

/// `tandem conntrackd -c` commits quietly (issue #18): the daemon leaves the kernel's NEW
/// and UPDATE event groups while it writes, so its own event socket is not flooded by the
/// echo of every committed flow; the committed flows enter the internal cache as they go
/// out, and a dump a second later catches what changed while the events were off.
///
/// Two Tandem daemons in namespaces tqc-…, sync link 10.238.41.0/24. Flows come from
/// conntrack-bench in A's kernel (10.64.0.1+i:40000 → 172.20.0.1:80) and replicate into
/// B's external cache; B commits them into its empty table.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct QuietCommitTests {
    /// Enough that a loud commit's echo is thousands of events; what is shown does not grow with it.
    static let flows = 5_000
    /// What `-R` after the commit is about does not grow with the table: fewer flows.
    static let reloadFlows = 2_000

    /// Two daemons on a veth link, each with `environment` (NAME=value) in B's.
    final class Node2 {
        let a: TestNamespace
        let b: TestNamespace
        let dir: String
        var daemons: [Spawned] = []

        init(_ tag: String, environmentB: [String]) throws {
            a = try TestNamespace("\(tag)a", prefix: "tqc")
            b = try TestNamespace("\(tag)b", prefix: "tqc")
            dir = NSTemporaryDirectory() + "tqc-\(tag)-\(getpid())"
            let id = getpid() % 100000
            let (ia, ib) = ("tqc\(id)a", "tqc\(id)b")
            for argv in [
                ["ip", "link", "add", ia, "netns", a.name, "type", "veth", "peer", "name", ib, "netns", b.name],
                ["ip", "-n", a.name, "addr", "add", "10.238.41.1/24", "dev", ia], ["ip", "-n", a.name, "link", "set", ia, "up"],
                ["ip", "-n", b.name, "addr", "add", "10.238.41.2/24", "dev", ib], ["ip", "-n", b.name, "link", "set", ib, "up"],
            ] {
                let r = Shell.run(argv)
                if r.status != 0 { a.remove(); b.remove(); throw TestSetupError("\(argv): \(r.stderr)") }
            }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try config("a", "10.238.41.1", "10.238.41.2", ia)
            try config("b", "10.238.41.2", "10.238.41.1", ib)
            daemons.append(try a.start([Shell.tandem, "conntrackd", "-C", "\(dir)/a.conf"], stdout: "\(dir)/a.out", stderr: "\(dir)/a.err"))
            daemons.append(try b.start(["env"] + environmentB + [Shell.tandem, "conntrackd", "-C", "\(dir)/b.conf"],
                                       stdout: "\(dir)/b.out", stderr: "\(dir)/b.err"))
        }

        func config(_ name: String, _ me: String, _ peer: String, _ dev: String) throws {
            let text = """
            Sync {
                Mode FTFW {
                    DisableExternalCache Off
                    CommitTimeout 180
                    PurgeTimeout 5
                }
                UDP {
                    IPv4_address \(me)
                    IPv4_Destination_Address \(peer)
                    Port 3780
                    Interface \(dev)
                    Checksum on
                    RcvSocketBuffer 16777216
                    SndSocketBuffer 16777216
                }
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
            }
            """
            try text.write(toFile: "\(dir)/\(name).conf", atomically: true, encoding: .utf8)
        }

        func cli(_ node: String, _ args: [String]) -> Shell.Output {
            (node == "a" ? a : b).run([Shell.tandem, "conntrackd", "-C", "\(dir)/\(node).conf"] + args)
        }

        /// "current active connections" of `cache` ("internal" or "external") from `-s`.
        func active(_ node: String, _ cache: String) -> Int {
            let lines = cli(node, ["-s"]).lines
            guard let i = lines.firstIndex(where: { $0.hasPrefix("cache \(cache)") }), i + 1 < lines.count else { return -1 }
            return Int(lines[i + 1].split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") ?? -1
        }

        func kernelCount(_ ns: TestNamespace) -> Int {
            Int(ns.run(["conntrack", "-C"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }

        var log: String { Vectors.readText("\(dir)/b.log") }

        func stop() {
            for d in daemons { d.stop() }
            a.remove()
            b.remove()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// What a commit left behind, read once it has settled.
    struct Outcome {
        var kernel = 0
        var internalFlows = 0
        var echoes: Int?
        var overruns: Int?
        var lateFlowInInternalCache = false
        var peerExternal = 0
        /// `-s runtime`'s "resync with kernel table": `-R` requests and timed re-reads.
        var kernelResyncs: Int?
        var log = ""
    }

    /// Replicates `flows` (`Self.flows` unless told) into B, then B commits them. With `lateFlow`, a flow is made in
    /// B's kernel while the (held open) quiet window keeps the events off. With `reload`,
    /// `-R` follows the `-c` at once, as in primary-backup.sh. `adopts`: whether the
    /// internal cache should learn the committed flows (not with a loud commit).
    func commit(tag: String, environmentB: [String], lateFlow: Bool, reload: Bool = false, flows: Int = Self.flows,
                adopts: Bool = true) throws -> Outcome {
        let pair = try Node2(tag, environmentB: environmentB)
        defer { pair.stop() }
        usleep(1_500_000)
        let inserted = ConntrackdLossTests.insert(flows, in: pair.a)
        try #require(inserted.status == 0, "\(inserted.stdout)\(inserted.stderr)")
        var have = 0
        let arrived = Self.waitUntil(40) { have = pair.active("b", "external"); return have == flows }
        try #require(arrived, "B's external cache holds \(have) of \(flows)")
        // A keeps its table (a flush there would replicate as destroys into B's external
        // cache): its external cache shows what B sends back, which should be only news.
        usleep(500_000)
        let peerBefore = pair.active("a", "external")
        let client = try pair.b.start([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-c"],
                                      stdout: "\(pair.dir)/c.out", stderr: "\(pair.dir)/c.err")
        defer { client.stop() }
        if lateFlow {
            // The write is done (the kernel holds every flow) while the window is held open.
            let written = Self.waitUntil(20) { pair.kernelCount(pair.b) >= flows }
            try #require(written, "B's kernel holds \(pair.kernelCount(pair.b))")
            let made = pair.b.run(["conntrack", "-I", "-p", "tcp", "-s", "10.238.77.7", "-d", "10.238.88.8", "--sport", "4242", "--dport", "443",
                                   "--state", "ESTABLISHED", "-t", "300", "-u", "ASSURED,SEEN_REPLY"])
            try #require(made.status == 0, "\(made.stderr)")
        }
        #expect(client.wait(timeout: 30) == 0, "the -c client did not end: \(pair.log)")
        if reload {
            let r = pair.cli("b", ["-R"])
            #expect(r.status == 0, "-R: \(r.stderr)")
        }
        var o = Outcome()
        let expected = flows + (lateFlow ? 1 : 0)
        _ = Self.waitUntil(10) {
            o.lateFlowInInternalCache = pair.cli("b", ["-i"]).stdout.contains("src=10.238.77.7")
            return pair.kernelCount(pair.b) == expected && (!adopts || pair.active("b", "internal") == expected)
                && (!lateFlow || o.lateFlowInInternalCache)
        }
        // Past the reconcile dump (1 s after the commit) and what it sent.
        usleep(1_500_000)
        o.kernel = pair.kernelCount(pair.b)
        o.internalFlows = pair.active("b", "internal")
        o.lateFlowInInternalCache = pair.cli("b", ["-i"]).stdout.contains("src=10.238.77.7")
        let stats = pair.cli("b", ["-s"]).stdout
        o.echoes = ConntrackdLossTests.counter(stats, "Own commit echoes")
        o.overruns = ConntrackdLossTests.counter(stats, "Netlink overruns")
        o.peerExternal = pair.active("a", "external") - peerBefore
        let runtime = pair.cli("b", ["-s", "runtime"]).lines
        o.kernelResyncs = runtime.first { $0.contains("resync with kernel table:") }
            .flatMap { $0.split(separator: "\t").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        o.log = pair.log
        return o
    }

    /// The quiet commit: all in the kernel and in the internal cache, no echo read, no
    /// overrun, and the flow made while the events were off caught by the later dump and
    /// sent on (the only flow the peer hears of: the committed ones are not sent back).
    @Test func aQuietCommitAdoptsTheFlowsAndItsLaterDumpCatchesAChange() throws {
        let o = try commit(tag: "qui", environmentB: ["TANDEM_TEST_HOLD_QUIET_COMMIT_MS=2000"], lateFlow: true)
        #expect(o.kernel == Self.flows + 1, "\(o.log)")
        #expect(o.internalFlows == Self.flows + 1, "\(o.log)")
        #expect(o.echoes == 0, "\(o.log)")
        #expect(o.overruns == 0, "\(o.log)")
        #expect(o.lateFlowInInternalCache, "\(o.log)")
        #expect(o.log.contains("Committed \(Self.flows) new entries"), "\(o.log)")
        #expect(o.log.contains("resync with kernel conntrack table done: \(Self.flows + 1) flows"), "\(o.log)")
        #expect(o.peerExternal == 1, "the peer's external cache holds \(o.peerExternal): \(o.log)")
    }

    /// The control: the same commit with the event groups joined (test-only loud mode).
    /// The kernel echoes every committed flow to B's event socket, where they are read and
    /// skipped (counted), and the internal cache does not learn of them.
    @Test func aLoudCommitIsEchoedToTheEventSocket() throws {
        let o = try commit(tag: "lou", environmentB: ["TANDEM_TEST_LOUD_COMMIT=1"], lateFlow: false, adopts: false)
        #expect(o.kernel == Self.flows, "\(o.log)")
        #expect((o.echoes ?? 0) + (o.overruns ?? 0) > 0, "no echo counted: \(o.log)")
        #expect((o.echoes ?? 0) > Self.flows / 2 || (o.overruns ?? 0) > 0, "echoes \(o.echoes ?? -1): \(o.log)")
        #expect(o.internalFlows == 0, "\(o.log)")
        #expect(o.log.contains("Committed \(Self.flows) new entries"), "\(o.log)")
    }

    /// primary-backup.sh's `-R` straight after the `-c`: its dump is the commit's re-read
    /// (the flow made while the events were off reaches the peer, the committed ones are
    /// not sent back), and the timed one does not follow: one dump, not two.
    @Test func aReloadAfterTheCommitIsItsReread() throws {
        let o = try commit(tag: "rel", environmentB: ["TANDEM_TEST_HOLD_QUIET_COMMIT_MS=2000"], lateFlow: true, reload: true, flows: Self.reloadFlows)
        #expect(o.kernel == Self.reloadFlows + 1, "\(o.log)")
        #expect(o.internalFlows == Self.reloadFlows + 1, "\(o.log)")
        #expect(o.lateFlowInInternalCache, "\(o.log)")
        #expect(o.peerExternal == 1, "the peer's external cache holds \(o.peerExternal): \(o.log)")
        #expect(o.log.contains("resync with kernel conntrack table done by -R: \(Self.reloadFlows + 1) flows"), "\(o.log)")
        #expect(!o.log.contains("resync with kernel conntrack table done: "), "a second dump ran: \(o.log)")
        #expect(o.kernelResyncs == 1, "\(o.kernelResyncs ?? -1) re-reads: \(o.log)")
    }

    /// The control (test-only `TANDEM_TEST_SEPARATE_REREAD=1`, the behaviour before): `-R`
    /// reloads without sending and the timed re-read still runs a second later, so the
    /// table is dumped twice, and the peer never hears of the late flow: `-R` put it in the
    /// internal cache unsent, so the second dump found nothing changed.
    @Test func withoutItTheTableIsDumpedTwice() throws {
        let o = try commit(tag: "sep", environmentB: ["TANDEM_TEST_HOLD_QUIET_COMMIT_MS=2000", "TANDEM_TEST_SEPARATE_REREAD=1"],
                           lateFlow: true, reload: true, flows: Self.reloadFlows)
        #expect(o.internalFlows == Self.reloadFlows + 1, "\(o.log)")
        #expect(o.lateFlowInInternalCache, "\(o.log)")
        #expect(o.peerExternal == 0, "the peer's external cache holds \(o.peerExternal): \(o.log)")
        #expect(!o.log.contains("done by -R"), "\(o.log)")
        #expect(o.log.contains("resync with kernel conntrack table done: \(Self.reloadFlows + 1) flows"), "\(o.log)")
        #expect(o.kernelResyncs == 2, "\(o.kernelResyncs ?? -1) re-reads: \(o.log)")
    }
}
