import Foundation
import TestSupport
import Testing

/// A master's answers to other routers' adverts, Tandem beside keepalived 2.2.7, counted on
/// the wire: garp_lower_prio_repeat (GARP rounds per lower-priority advert heard),
/// lower_prio_no_advert (no advert in answer), higher_prio_send_advert (one last advert
/// before stepping down); down_timer_adverts through the data dump both daemons write.
/// Every case runs the option and its control, the same setup without it.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("tcpdump") && Shell.which("nft")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"),
                             "needs root, tcpdump, nft and keepalived"))
struct KeepalivedLowerPriorityTests {
    /// One captured line of `tcpdump -e`: the sender's MAC and the rest.
    struct Frame {
        var mac: String
        var text: String
    }

    static func frames(_ path: String) -> [Frame] {
        Vectors.readText(path).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ", maxSplits: 2)
            guard words.count == 3 else { return nil }
            return Frame(mac: String(words[1]), text: String(words[2]))
        }
    }

    /// What the master under test (side a) sent while a lower-priority master it cannot
    /// silence (side b, keepalived, which drops a's adverts) kept advertising at 0.2 s.
    struct Counts: CustomStringConvertible {
        var lowerAdverts = 0
        var ownAdverts = 0
        var garps = 0
        var description: String { "b adverts \(lowerAdverts), a adverts \(ownAdverts), a GARPs \(garps)" }
    }

    /// `sibling`: a second instance on a, in a sync group with the first, whose own VIP's
    /// GARPs are then the ones counted.
    func splitBrain(_ kind: VRRPRouter.Kind, extra: [String], tag: String, sibling: [String]? = nil) throws -> Counts {
        let pair = try SwitchedPair(tag: tag, prefix: "tka")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tka-lp-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-e", "-l", "arp or ip proto 112"],
                                    stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        // b never hears a: it stays MASTER and keeps sending its lower priority.
        let block = pair.b.run(["nft", "add table inet tka; add chain inet tka in { type filter hook input priority 0; };"
            + " add rule inet tka in ip saddr \(pair.address("a", 0)) ip protocol 112 drop"])
        try #require(block.status == 0, "\(block.stderr)")
        usleep(300_000)
        let lower = try VRRPRouter(.keepalived, in: pair.b,
                                   config: VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "b", instances: [.init(priority: 50)]))
        defer { lower.remove() }
        let vip = VRRPTestConfig.vip(0)
        try #require(eventually(within: 10) { pair.holds("b", vip) }, "\(lower.log)")
        // a advertises once a second, so an answer stands out against its own rhythm.
        let siblingVIP = VRRPTestConfig.vip(0, 120)
        let own = ["garp_master_delay 60", "garp_master_repeat 1"]
        let aConfig = VRRPTestConfig(version: 3, interval: 1).text(pair, side: "a", instances: [.init(priority: 200, extra: own + extra)]
            + (sibling.map { [.init(name: "VI_2", priority: 200, vrid: 70, vips: [siblingVIP], extra: own + $0)] } ?? []),
            syncGroup: sibling != nil)
        let router = try VRRPRouter(kind, in: pair.a, config: aConfig)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", vip) && (sibling == nil || pair.holds("a", siblingVIP)) }, "\(router.log)")
        // Well inside the 5 s garp_lower_prio_delay, so only the first rounds are counted.
        usleep(2_500_000)
        let all = Self.frames(capture)
        let a = pair.address("a", 0)
        let b = pair.address("b", 0)
        guard let first = all.firstIndex(where: { $0.text.contains(": \(a) > 224.0.0.18: VRRP") }) else {
            Issue.record("no advert from a: \(Vectors.readText(capture))\n\(router.log)")
            return Counts()
        }
        let aMac = all[first].mac
        let counted = sibling == nil ? vip : siblingVIP
        var counts = Counts()
        for f in all[first...] {
            if f.text.contains(": \(b) > 224.0.0.18: VRRP") && f.text.contains("prio 50") { counts.lowerAdverts += 1 }
            if f.mac == aMac && f.text.contains(": \(a) > 224.0.0.18: VRRP") { counts.ownAdverts += 1 }
            if f.mac == aMac && f.text.contains("Request who-has \(counted) ") && f.text.contains(" tell \(counted),") { counts.garps += 1 }
        }
        // The burst of becoming MASTER (garp_master_repeat 1) is not an answer.
        counts.garps -= 1
        return counts
    }

    /// keepalived's default is vrrp_garp_master_repeat's 5 rounds per lower-priority advert;
    /// garp_lower_prio_repeat sets it, 0 turns it off (the control: no answering GARP at all).
    @Test(arguments: VRRPRouter.Kind.allCases, [(extra: [String](), rounds: 5), (["garp_lower_prio_repeat 2"], 2), (["garp_lower_prio_repeat 0"], 0)])
    func garpRoundsAnswerEachLowerPriorityAdvert(_ kind: VRRPRouter.Kind, _ option: (extra: [String], rounds: Int)) throws {
        let c = try splitBrain(kind, extra: option.extra, tag: "g\(kind.rawValue.prefix(1))\(option.rounds)")
        #expect(c.lowerAdverts >= 8, "\(c)")
        // One round set per advert heard, give or take the adverts at the window's edges,
        // and a fifth more above: under the CI's load the capture once showed keepalived
        // 2.2.7 itself with 162 GARPs for 29 adverts counted (5 rounds each: 145). Rounds of
        // 5, 2 and 0 stay far apart.
        #expect(c.garps >= option.rounds * (c.lowerAdverts - 2) && c.garps <= option.rounds * (c.lowerAdverts + 1) + option.rounds * c.lowerAdverts / 5,
                "\(option.extra): \(c)")
    }

    /// garp_lower_prio_delay: each advert heard brings a second round that much later, so
    /// within the window the rounds outnumber the adverts; the control (delay 0) has one
    /// round per advert.
    @Test(arguments: VRRPRouter.Kind.allCases, [0, 1])
    func garpLowerPrioDelayBringsASecondRound(_ kind: VRRPRouter.Kind, _ delay: Int) throws {
        let c = try splitBrain(kind, extra: ["garp_lower_prio_repeat 1", "garp_lower_prio_delay \(delay)"],
                               tag: "y\(kind.rawValue.prefix(1))\(delay)")
        #expect(c.lowerAdverts >= 8, "\(c)")
        if delay == 0 {
            #expect(c.garps <= c.lowerAdverts + 1, "\(c)")
        } else {
            // Adverts heard in the window's first 1.5 s have had their second round too.
            #expect(c.garps >= c.lowerAdverts + 4, "\(c)")
        }
    }

    /// Sync group: the other MASTER member announces its own addresses too, with its own
    /// garp_lower_prio_repeat; the control gives it 0 and it announces nothing.
    @Test(arguments: VRRPRouter.Kind.allCases, [0, 2])
    func syncGroupSiblingsAnnounceTheirAddressesToo(_ kind: VRRPRouter.Kind, _ rounds: Int) throws {
        let c = try splitBrain(kind, extra: ["garp_lower_prio_repeat 0"], tag: "s\(kind.rawValue.prefix(1))\(rounds)",
                               sibling: ["garp_lower_prio_repeat \(rounds)", "garp_lower_prio_delay 0"])
        #expect(c.lowerAdverts >= 8, "\(c)")
        #expect(c.garps >= rounds * (c.lowerAdverts - 2) && c.garps <= rounds * (c.lowerAdverts + 1), "\(c)")
    }

    /// By default each lower-priority advert is answered at once (an advert per advert, far
    /// above a's own 1 s rhythm); lower_prio_no_advert leaves only that rhythm.
    @Test(arguments: VRRPRouter.Kind.allCases, [false, true])
    func lowerPriorityNoAdvertSilencesTheAnswer(_ kind: VRRPRouter.Kind, _ quiet: Bool) throws {
        let c = try splitBrain(kind, extra: quiet ? ["lower_prio_no_advert", "garp_lower_prio_repeat 0"] : ["garp_lower_prio_repeat 0"],
                               tag: "n\(kind.rawValue.prefix(1))\(quiet ? 1 : 0)")
        #expect(c.lowerAdverts >= 8, "\(c)")
        if quiet {
            #expect(c.ownAdverts <= 4, "\(c)")
        } else {
            #expect(c.ownAdverts >= c.lowerAdverts - 2, "\(c)")
        }
    }

    /// A master overtaken by a higher priority: with higher_prio_send_advert it sends one
    /// advert after the winner's first; without, none.
    @Test(arguments: VRRPRouter.Kind.allCases, [false, true])
    func higherPrioritySendAdvertSpeaksOnceMore(_ kind: VRRPRouter.Kind, _ speak: Bool) throws {
        let tag = "h\(kind.rawValue.prefix(1))\(speak ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, prefix: "tka")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tka-hp-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "ip proto 112"],
                                    stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(300_000)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [
            .init(priority: 100, extra: speak ? ["higher_prio_send_advert"] : []),
        ]))
        defer { router.remove() }
        let vip = VRRPTestConfig.vip(0)
        try #require(eventually(within: 10) { pair.holds("a", vip) }, "\(router.log)")
        let winner = try VRRPRouter(.keepalived, in: pair.b, config: c.text(pair, side: "b", instances: [.init(priority: 200)]))
        defer { winner.remove() }
        try #require(eventually(within: 10) { !pair.holds("a", vip) && pair.holds("b", vip) }, "\(router.log)\n\(winner.log)")
        usleep(600_000)
        let lines = Vectors.readText(capture).split(separator: "\n")
        let a = pair.address("a", 0)
        let b = pair.address("b", 0)
        guard let first = lines.firstIndex(where: { $0.contains(" \(b) > 224.0.0.18: VRRP") && $0.contains("prio 200") }) else {
            Issue.record("no advert from b: \(lines)")
            return
        }
        let after = lines[first...].filter { $0.contains(" \(a) > 224.0.0.18: VRRP") && $0.contains("prio 100") }.count
        #expect(after == (speak ? 1 : 0), "\(lines[first...].joined(separator: "\n"))")
    }

    /// down_timer_adverts in both daemons' SIGUSR1 data: the same Master_Down_Interval.
    @Test(arguments: VRRPRouter.Kind.allCases, [3, 5])
    func downTimerAdvertsSetsTheMasterDownTimer(_ kind: VRRPRouter.Kind, _ adverts: Int) throws {
        let tag = "d\(kind.rawValue.prefix(1))\(adverts)"
        let pair = try SwitchedPair(tag: tag, prefix: "tka")
        defer { pair.remove() }
        let c = VRRPTestConfig(version: 3, interval: 1)
        // Alone, it is BACKUP for the first 3.6 s; the line does not depend on the state.
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [
            .init(priority: 100, extra: adverts == 3 ? [] : ["down_timer_adverts \(adverts)"]),
        ]))
        defer { router.remove() }
        usleep(500_000)
        let data = router.data()
        // adverts × 1 s + skew (256 − 100) × 1 s / 256 = 609,375 µs.
        #expect(data.contains("Master down timer = \(adverts * 1_000_000 + 609_375) usecs"), "\(data)")
        #expect(data.contains("Down timer adverts = \(adverts)"), "\(data)")
    }
}
