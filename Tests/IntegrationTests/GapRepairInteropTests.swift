import Foundation
import TestSupport
import Testing

/// Debian's conntrackd 1.4.7 sends, Tandem receives: holes that conntrackd never fills
/// end with Tandem's external cache holding exactly what conntrackd's internal cache
/// holds (see `GapRepair`). Each test runs its control: with the repair switched off (a
/// test-only environment setting), the same hole stays open, so the sender's failure to
/// resend is real and the repair is what closes it.
///
/// The hole, FTFW: conntrackd's resend queue is 1,000 messages (ResendQueueSize) and a window
/// of the burst (300 kB of sync traffic, about 4,000 messages) is dropped at B by nft.
/// By the time B's NACK arrives conntrackd has pushed the oldest of them out of its
/// queue (counted in its "not enough space errors"), so no NACK can bring them back.
/// NOTRACK: the same window; nothing is ever resent.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("nft"), "needs root, conntrackd and nft"))
struct GapRepairInteropTests {
    typealias Pair = ConntrackdInteropTests.Pair

    static let flows = 20_000
    /// The seed's socket buffers: with the system default (208 KiB) conntrackd's own
    /// sends fail during a bulk send of this size (its "Error send"), which a resend
    /// queue of 1,000 cannot repair either, so every resync would open new holes.
    static let seedBuffers = "SndSocketBuffer 1249280\n RcvSocketBuffer 1249280"
    static let noRepair = ["TANDEM_TEST_NO_GAP_REPAIR=1"]

    /// B's nft table `tdgap`: an input chain with `input` rules, and an output chain with
    /// `output` rules when there are any.
    static func filterAtB(_ pair: Pair, input: [String] = [], output: [String] = []) {
        var commands = [["nft", "add", "table", "inet", "tdgap"],
                        ["nft", "add", "chain", "inet", "tdgap", "in", "{ type filter hook input priority 0; }"]]
        if !output.isEmpty { commands.append(["nft", "add", "chain", "inet", "tdgap", "out", "{ type filter hook output priority 0; }"]) }
        commands += input.map { ["nft", "add", "rule", "inet", "tdgap", "in", $0] }
        commands += output.map { ["nft", "add", "rule", "inet", "tdgap", "out", $0] }
        for argv in commands {
            let r = pair.b.run(argv)
            #expect(r.status == 0, "\(argv): \(r.stderr)")
        }
    }

    /// A burst from A's kernel, with `rule` (matching B's incoming sync traffic) added to
    /// B's input 50 ms into it. Returns how many packets the rule dropped or rejected.
    static func burstWithHole(_ pair: Pair, rule: String) -> Int {
        filterAtB(pair)
        let nsB = pair.b.name
        let script = "\(ConntrackdLossTests.bench) insert \(flows) --batch 500 >/dev/null & g=$!; sleep 0.05; "
            + "ip netns exec \(nsB) nft add rule inet tdgap in \(rule); wait $g"
        let r = pair.a.run(["sh", "-c", script])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let listing = pair.b.run(["nft", "list", "table", "inet", "tdgap"]).stdout
        guard let p = listing.range(of: "counter packets ") else { return 0 }
        return Int(listing[p.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// What B's external cache lacks of A's internal cache, and what it has that A has not,
    /// once they agree or after `seconds`.
    static func difference(_ pair: Pair, within seconds: Double, senderHolds expected: Int? = nil,
                           emptyAllowed: Bool = false) -> (missing: Int, extra: Int, a: Int, sample: String) {
        var result = (missing: -1, extra: -1, a: 0, sample: "")
        _ = pair.eventually(seconds) {
            let a = Set(pair.query("a", ["-i"]).map(originalOnly))
            let b = Set(pair.query("b", ["-e"]).map(originalOnly))
            let missing = a.subtracting(b)
            result = (missing.count, b.subtracting(a).count, a.count,
                      "first missing: \(missing.sorted().first ?? "-"); first extra: \(b.subtracting(a).sorted().first ?? "-")")
            return result.missing == 0 && result.extra == 0 && (emptyAllowed || a.count > 0) && (expected.map { a.count == $0 } ?? true)
        }
        return result
    }

    /// A cache listing's line without its reply tuple (the internal cache shows it, the
    /// external one does not): the flow as the sync protocol identifies it.
    static func originalOnly(_ line: String) -> String {
        var kept: [Substring] = []
        var sources = 0
        var inReply = false
        for token in line.split(separator: " ") {
            if token.hasPrefix("src=") {
                sources += 1
                inReply = sources > 1
            } else if token.hasPrefix("[") || token.hasPrefix("mark=") {
                inReply = false
            }
            if !inReply { kept.append(token) }
        }
        return kept.joined(separator: " ")
    }

    static func log(_ pair: Pair, _ node: String) -> String {
        (try? String(contentsOfFile: "\(pair.dir)/\(node).log", encoding: .utf8)) ?? ""
    }

    /// TCP is not among the links here: it retransmits what nft drops, so a hole needs a
    /// reset connection, and conntrackd 1.4.7's TCP client does not come back from one:
    /// after a reset mid-burst (nft `reject with tcp reset`), and likewise when its first
    /// connect finds no listener, it shows "client=disconnected", counts send errors and
    /// sends nothing more, so the receiver sees no gap and no repair can reach it.
    static let holeRule = "udp dport 3780 quota until 300 kbytes counter drop"

    /// The links and modes the holes are made on: FTFW over UDP and Multicast, and
    /// NOTRACK (no NACKs at all: only a resync request can fill a hole).
    static let setups: [(channel: String, mode: String)] = [("UDP", "FTFW"), ("Multicast", "FTFW"), ("UDP", "NOTRACK")]

    static func pair(_ tag: String, _ setup: (channel: String, mode: String), environment: [String] = []) throws -> Pair {
        try Pair("\(tag)\(setup.channel.prefix(1).lowercased())\(setup.mode.prefix(1).lowercased())", a: .reference, b: .tandem,
                 mode: setup.mode,
                 extra: .init(udp: seedBuffers, modeA: setup.mode == "FTFW" ? "ResendQueueSize 1000" : "", tandemEnvironment: environment),
                 channel: setup.channel)
    }

    @Test(arguments: 0 ..< setups.count)
    func aHoleConntrackdCannotResendIsRepairedByResync(setup: Int) throws {
        let pair = try Self.pair("gr", Self.setups[setup])
        defer { pair.stop() }
        usleep(2_000_000)
        let dropped = Self.burstWithHole(pair, rule: Self.holeRule)
        #expect(dropped > 0)
        let d = Self.difference(pair, within: 30)
        #expect(d.missing == 0 && d.extra == 0 && d.a > 0, "B lacks \(d.missing) and has \(d.extra) extra of A's \(d.a) flows; \(d.sample)\nB's log:\n\(Self.log(pair, "b").suffix(3000))\nA's log:\n\(Self.log(pair, "a").suffix(2000))")
        let text = ConntrackdLossTests.statistics(pair, "b", ["-s", "network"])
        #expect((ConntrackdLossTests.tabbedCounter(text, "Resync requests:") ?? 0) > 0, "\(text)")
        #expect(Self.log(pair, "b").contains("requesting the peer's whole table (resync):"))
    }

    @Test(arguments: 0 ..< setups.count)
    func controlWithoutRepairTheHoleStays(setup: Int) throws {
        let pair = try Self.pair("gc", Self.setups[setup], environment: Self.noRepair)
        defer { pair.stop() }
        usleep(2_000_000)
        let dropped = Self.burstWithHole(pair, rule: Self.holeRule)
        #expect(dropped > 0)
        let d = Self.difference(pair, within: 12)
        #expect(d.missing > 0, "without repair B still converged (\(d.a) flows): the hole was not one conntrackd fails to fill")
        let text = ConntrackdLossTests.statistics(pair, "b", ["-s", "network"])
        #expect(ConntrackdLossTests.tabbedCounter(text, "Gaps:") ?? 0 > 0, "\(text)")
        #expect(ConntrackdLossTests.tabbedCounter(text, "Resync requests:") == 0, "\(text)")
    }

    /// Destroys lost in a hole: the resync's answer does not mention those flows, so once
    /// it has arrived whole Tandem removes them, and B holds exactly A's table. The
    /// control keeps flows conntrackd no longer has (they would be committed on failover).
    /// TCP, where no hole can be forced (see `holeRule`): a conntrackd sender's burst of
    /// 20,000 flows arrives whole, exactly A's table.
    @Test func aBurstOverTCPArrivesWhole() throws {
        let pair = try Pair("gbt", a: .reference, b: .tandem, extra: .init(udp: Self.seedBuffers), channel: "TCP")
        defer { pair.stop() }
        // conntrackd 1.4.7's TCP client gives up when its first connect finds no listener:
        // it starts again once Tandem listens.
        usleep(500_000)
        pair.daemons[0].stop()
        pair.daemons[0] = try pair.start(.reference, in: pair.a, "a")
        usleep(2_000_000)
        let r = pair.a.run([ConntrackdLossTests.bench, "insert", String(Self.flows), "--batch", "500"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let d = Self.difference(pair, within: 30)
        #expect(d.missing == 0 && d.extra == 0 && d.a > 0, "B lacks \(d.missing) and has \(d.extra) extra of A's \(d.a) flows; \(d.sample)")
    }

    @Test(arguments: [true, false])
    func destroysLostInAHoleAreSweptAfterTheResync(repair: Bool) throws {
        let pair = try Self.pair(repair ? "gsr" : "gsc", ("UDP", "FTFW"), environment: repair ? [] : Self.noRepair)
        defer { pair.stop() }
        usleep(2_000_000)
        let r = pair.a.run([ConntrackdLossTests.bench, "insert", String(Self.flows), "--batch", "500"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let before = Self.difference(pair, within: 30)
        #expect(before.missing == 0 && before.extra == 0, "before the flush: B lacks \(before.missing), has \(before.extra) extra")
        Self.filterAtB(pair, input: [Self.holeRule])
        // Every flow destroyed at once: a burst of DESTROY messages, the first 300 kB lost.
        pair.a.run(["conntrack", "-F"])
        let d = Self.difference(pair, within: repair ? 30 : 12, emptyAllowed: true)
        let log = Self.log(pair, "b")
        if repair {
            #expect(d.missing == 0 && d.extra == 0, "B lacks \(d.missing) and has \(d.extra) extra of A's \(d.a) flows; \(d.sample)\n\(log.suffix(2000))")
            #expect(log.contains("stale flow(s) it no longer has removed"), "\(log.suffix(2000))")
        } else {
            #expect(d.extra > 0, "without repair B holds no flow A lacks (\(d.a) in A): the destroys were not lost")
        }
    }

    /// Destroys lost while the link was down, with gap repair off (so only the request
    /// asks for the table): a node that asks for the peer's table (`-n`; a node becoming
    /// backup after a failback asks the same way) keeps only the flows the answer names.
    /// The control does not ask, and keeps the flows conntrackd no longer has.
    @Test(arguments: [true, false])
    func destroysLostWhileTheLinkWasDownAreSweptByAResync(resync: Bool) throws {
        let pair = try Self.pair(resync ? "gdr" : "gdc", ("UDP", "FTFW"), environment: Self.noRepair)
        defer { pair.stop() }
        usleep(2_000_000)
        let r = pair.a.run([ConntrackdLossTests.bench, "insert", String(Self.flows), "--batch", "500"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let before = Self.difference(pair, within: 30)
        #expect(before.missing == 0 && before.extra == 0, "before the cut: B lacks \(before.missing), has \(before.extra) extra")
        Self.filterAtB(pair, input: ["udp dport 3780 counter drop"])
        // Half the flows end while B hears nothing.
        let cut = pair.a.run([ConntrackdLossTests.bench, "delete", String(Self.flows / 2), "--batch", "500"])
        #expect(cut.status == 0, "\(cut.stdout)\(cut.stderr)")
        usleep(1_500_000)
        #expect(pair.b.run(["nft", "delete", "table", "inet", "tdgap"]).status == 0)
        // The request goes out once B has heard A again (and seen the jump over what it
        // missed): a gap seen while the answer is on the way would keep every flow.
        usleep(2_500_000)
        if resync { _ = ConntrackdLossTests.statistics(pair, "b", ["-n"]) }
        let d = Self.difference(pair, within: resync ? 30 : 12, emptyAllowed: true)
        let log = Self.log(pair, "b")
        if resync {
            #expect(d.missing == 0 && d.extra == 0, "B lacks \(d.missing) and has \(d.extra) extra of A's \(d.a) flows; \(d.sample)\n\(log.suffix(2000))")
            #expect(log.contains("stale flow(s) it no longer has removed"), "\(log.suffix(2000))")
        } else {
            #expect(d.extra > 0, "without a resync B holds no flow A lacks (\(d.a) in A): the destroys were not lost")
        }
    }

    /// 30% of the sync datagrams dropped each way at B, 5,000 flows from a conntrackd
    /// sender: all of them in B's external cache within 60 s.
    @Test func thirtyPercentLossEachWayFromAConntrackdSender() throws {
        // A netlink buffer that holds the burst: conntrackd then misses no kernel event.
        let pair = try Pair("gl", a: .reference, b: .tandem,
                            extra: .init(general: "NetlinkBufferSize 33554432\n NetlinkBufferSizeMaxGrowth 67108864"))
        defer { pair.stop() }
        usleep(2_000_000)
        let loss = "udp dport 3780 numgen random mod 100 < 30 counter drop"
        Self.filterAtB(pair, input: [loss], output: [loss])
        let r = pair.a.run([ConntrackdLossTests.bench, "insert", "5000", "--batch", "500"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let d = Self.difference(pair, within: 60, senderHolds: 5_000)
        let listing = pair.b.run(["nft", "list", "table", "inet", "tdgap"]).stdout
        #expect(listing.components(separatedBy: "counter packets 0 ").count == 1, "a loss rule dropped nothing: \(listing)")
        #expect(d.missing == 0 && d.extra == 0 && d.a == 5_000, "B lacks \(d.missing) and has \(d.extra) extra of A's \(d.a) flows; \(d.sample)")
    }
}

