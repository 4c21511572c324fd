import Foundation
import IPAddressing
import TestSupport
import Testing
import VRRP

/// global_defs' GARP pacing and the lower-priority notify, Tandem beside keepalived 2.2.7,
/// counted on the wire and in what the scripts saw: vrrp_garp_interval (a new master's
/// burst spaced out, repeats of a queued address collapsed), vrrp_min_garp (one round, no
/// second burst), notify_master_rx_lower_pri (one run and one FIFO line per lower-priority
/// advert heard), and garp_lower_prio_delay's round outliving a lost mastership. Every
/// case runs its control: the same setup without the option.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("tcpdump") && Shell.which("nft")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"),
                             "needs root, tcpdump, nft and keepalived"))
struct KeepalivedGARPPacingTests {
    /// Starts a capture of ARP on b's side, then side a's router alone (it becomes MASTER),
    /// waits `settle` seconds after it holds its first address, and returns each GARP's
    /// capture time by address.
    func garps(_ kind: VRRPRouter.Kind, tag: String, global: [String], vips: [String], extra: [String],
               settle: Double) throws -> [String: [Double]] {
        let pair = try SwitchedPair(tag: tag, prefix: "tkc")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tkc-garp-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(500_000)
        // keepalived reads a second global_defs block as it reads the first.
        let top = global.isEmpty ? [] : ["global_defs {"] + global.map { "  " + $0 } + ["}"]
        let config = VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "a", instances: [.init(vips: vips, extra: extra)], top: top)
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", vips[0]) }, "\(router.log)")
        usleep(UInt32(settle * 1_000_000))
        var found: [String: [Double]] = [:]
        for line in Vectors.readText(capture).split(separator: "\n") {
            for v in vips where line.contains("Request who-has \(v) (ff:ff:ff:ff:ff:ff) tell \(v)") {
                if let t = Double(line.split(separator: " ")[0]) { found[v, default: []].append(t) }
            }
        }
        #expect(!router.log.contains("not supported"), "\(router.log)")
        return found
    }

    /// Three addresses, two rounds, no second burst in the window. With 0.3 s spacing the
    /// first address goes at once, the other two and the first's repeat (queued once) one
    /// spacing apart: 4 GARPs. The control sends all 6 at once.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func garpIntervalSpacesAndCollapsesTheBurst(_ kind: VRRPRouter.Kind, _ paced: Bool) throws {
        let vips = [VRRPTestConfig.vip(0, 100), VRRPTestConfig.vip(0, 101), VRRPTestConfig.vip(0, 102)]
        let found = try garps(kind, tag: "i\(kind.rawValue.prefix(1))\(paced ? 1 : 0)", global: paced ? ["vrrp_garp_interval 0.3"] : [],
                              vips: vips, extra: ["garp_master_repeat 2", "garp_master_delay 60"], settle: 2)
        let counts = vips.map { found[$0]?.count ?? 0 }
        let times = found.values.flatMap { $0 }.sorted()
        if paced {
            #expect(counts == [2, 1, 1], "\(found)")
            // No two on the interface closer than the spacing (capture times, so a little slack).
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            #expect(gaps.allSatisfy { $0 > 0.25 }, "\(gaps)")
        } else {
            #expect(counts == [2, 2, 2], "\(found)")
        }
    }

    /// vrrp_min_garp: one GARP on becoming MASTER and no second burst; the control has
    /// keepalived's 5 at once and 5 more garp_master_delay (5 s) later.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func minGarpSendsOneRoundAndNoSecondBurst(_ kind: VRRPRouter.Kind, _ minimal: Bool) throws {
        let vip = VRRPTestConfig.vip(0)
        let found = try garps(kind, tag: "m\(kind.rawValue.prefix(1))\(minimal ? 1 : 0)", global: minimal ? ["vrrp_min_garp"] : [],
                              vips: [vip], extra: [], settle: 6.5)
        #expect((found[vip]?.count ?? 0) == (minimal ? 1 : 10), "\(found)")
    }

    /// a (priority 200) is MASTER while b (keepalived, priority 50) cannot hear it and keeps
    /// advertising as MASTER too: a runs notify_master_rx_lower_pri, without arguments, once
    /// per advert it hears, and its notify_fifo gets a MASTER_RX_LOWER_PRI line for each.
    /// The control starts no b: nothing lower is heard, nothing runs.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func notifyMasterRxLowerPriRunsPerLowerAdvert(_ kind: VRRPRouter.Kind, _ lowerMaster: Bool) throws {
        let tag = "n\(kind.rawValue.prefix(1))\(lowerMaster ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, prefix: "tkc")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tkc-rx-\(getpid())-\(tag)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/lower.sh", calls = dir + "/calls", reader = dir + "/fifo.sh", lines = dir + "/fifo.lines"
        try "#!/bin/sh\nprintf '%s\\n' \"$(printf '[%s]' \"$@\")\" >> \(calls)\n".write(toFile: script, atomically: true, encoding: .utf8)
        try "#!/bin/sh\nwhile read -r line; do printf '%s\\n' \"$line\" >> \(lines); done < \"$1\"\n".write(toFile: reader, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        chmod(reader, 0o755)
        let vip = VRRPTestConfig.vip(0)
        var lower: VRRPRouter?
        defer { lower?.remove() }
        if lowerMaster {
            // b never hears a: it stays MASTER and keeps sending its lower priority.
            let block = pair.b.run(["nft", "add table inet tkc; add chain inet tkc in { type filter hook input priority 0; };"
                + " add rule inet tkc in ip saddr \(pair.address("a", 0)) ip protocol 112 drop"])
            try #require(block.status == 0, "\(block.stderr)")
            lower = try VRRPRouter(.keepalived, in: pair.b,
                                   config: VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "b", instances: [.init(priority: 50)]))
            try #require(eventually(within: 10) { pair.holds("b", vip) }, "\(lower?.log ?? "")")
        }
        let top = ["global_defs {", "  notify_fifo \(dir)/notify.fifo", "  notify_fifo_script \(reader)", "}"]
        let config = VRRPTestConfig(version: 3, interval: 1).text(pair, side: "a", instances: [
            .init(priority: 200, extra: ["notify_master_rx_lower_pri \(script)", "garp_lower_prio_repeat 0"]),
        ], top: top)
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", vip) }, "\(router.log)")
        usleep(2_000_000)
        router.stop()
        usleep(300_000)
        let runs = Vectors.readText(calls).split(separator: "\n")
        let events = Vectors.readText(lines).split(separator: "\n").filter { $0.contains("MASTER_RX_LOWER_PRI") }
        if lowerMaster {
            // b advertises every 0.2 s: about ten in the window.
            #expect(runs.count >= 5 && runs.allSatisfy { $0 == "[]" }, "\(runs)\n\(router.log)")
            #expect(events.count >= 5 && events.allSatisfy { $0 == "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 200" }, "\(events)")
            #expect(abs(events.count - runs.count) <= 2, "runs \(runs.count), FIFO lines \(events.count)")
        } else {
            #expect(runs.isEmpty && events.isEmpty, "\(runs) \(events)")
            // The FIFO works in the control too: it carried the MASTER transition.
            #expect(Vectors.readText(lines).contains("INSTANCE \"VI_1\" MASTER 200"), "\(Vectors.readText(lines))\n\(router.log)")
        }
    }

    /// a, MASTER, hears one lower-priority advert (3 GARPs at once, 3 more owed 3 s later),
    /// then one of priority 200 that sends it to BACKUP. Silence after that: a is MASTER again
    /// (1 GARP) before the owed round, which keepalived's timer still sends (7 in all). The
    /// control keeps the higher priority talking past the round's time: a is BACKUP then and
    /// the round is not sent (3 in all).
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func delayedLowerPriorityRoundOutlivesALostMastership(_ kind: VRRPRouter.Kind, _ regain: Bool) throws {
        let tag = "d\(kind.rawValue.prefix(1))\(regain ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, prefix: "tkc")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tkc-lpd-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(500_000)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 100, extra: [
            "garp_master_repeat 1", "garp_master_delay 60", "garp_lower_prio_repeat 3", "garp_lower_prio_delay 3",
        ])]))
        defer { router.remove() }
        let vip = VRRPTestConfig.vip(0)
        try #require(eventually(within: 10) { pair.holds("a", vip) }, "\(router.log)")
        usleep(500_000)
        let garp = "Request who-has \(vip) (ff:ff:ff:ff:ff:ff) tell \(vip)"
        func count() -> Int { Vectors.readText(capture).split(separator: "\n").filter { $0.contains(garp) }.count }
        let before = count()
        let sender = try RawIPv4Sender(namespace: pair.b.name, interface: pair.interface("b", 0))
        let source = IPAddress(pair.address("b", 0))!, group = Advertisement.groupV4
        func advert(_ priority: UInt8) throws {
            let a = Advertisement(version: .v3, virtualRouterID: UInt8(c.vrid), priority: priority, interval: 20, addresses: [IPAddress(vip)!],
                                  authenticationType: 0, authenticationData: [])
            try sender.send(source: source.bytes, destination: group.bytes, ttl: 255, payload: a.encode(source: source, destination: group))
        }
        try advert(50)
        let heard = Date()
        usleep(100_000)
        try advert(200)
        try #require(eventually(within: 2) { !pair.holds("a", vip) }, "\(router.log)")
        if !regain {
            // BACKUP past the owed round's time.
            while Date().timeIntervalSince(heard) < 3.7 {
                try advert(200)
                usleep(200_000)
            }
        } else {
            #expect(eventually(within: 2) { pair.holds("a", vip) }, "\(router.log)")
            usleep(UInt32(max(0, 3.7 - Date().timeIntervalSince(heard)) * 1_000_000))
        }
        let sent = count() - before
        #expect(sent == (regain ? 7 : 3), "\(Vectors.readText(capture))\n\(router.log)")
    }

    /// vrrp_gna_interval, the same for unsolicited NAs: two IPv6 addresses, two rounds, 0.3 s
    /// apart: the first address twice, the second once (3 NAs); the control sends all 4.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func gnaIntervalSpacesTheNeighbourAdvertisements(_ kind: VRRPRouter.Kind, _ paced: Bool) throws {
        let tag = "v\(kind.rawValue.prefix(1))\(paced ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, prefix: "tkc")
        defer { pair.remove() }
        // A fixed, already usable link-local source (no DAD wait).
        let ns = pair.a.name, ifname = pair.interface("a", 0)
        for argv in [["ip", "-n", ns, "-6", "addr", "flush", "dev", ifname, "scope", "link"],
                     ["ip", "-n", ns, "-6", "addr", "add", "fe80::77:a/64", "dev", ifname, "nodad"]] {
            let r = Shell.run(argv)
            try #require(r.status == 0, "\(argv): \(r.stderr)")
        }
        let capture = NSTemporaryDirectory() + "tkc-na-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "-v", "icmp6 and ip6[40] == 136"],
                                    stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(500_000)
        let vips = ["2001:db8:77::100", "2001:db8:77::101"]
        let config = """
        global_defs {
          router_id tkc-a
        \(paced ? "  vrrp_gna_interval 0.3" : "")
        }
        vrrp_instance VI_6 {
          state BACKUP
          interface \(ifname)
          virtual_router_id 61
          priority 100
          advert_int 0.2
          garp_master_repeat 2
          garp_master_delay 60
          virtual_ipaddress {
            \(vips[0])/64
            \(vips[1])/64
          }
        }
        """
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        try #require(eventually(within: 10) {
            Shell.run(["ip", "-n", ns, "-6", "-br", "addr"]).stdout.contains(vips[0] + "/")
        }, "\(router.log)")
        usleep(2_000_000)
        let lines = Vectors.readText(capture).split(separator: "\n")
        let counts = vips.map { v in lines.filter { $0.contains("tgt is \(v),") || $0.hasSuffix("tgt is \(v)") }.count }
        #expect(counts == (paced ? [2, 1] : [2, 2]), "\(Vectors.readText(capture))\n\(router.log)")
    }

    /// A VIP written with `dev` of another interface is announced on that interface, with
    /// its MAC, as keepalived announces it (not on the instance's own). The control is the
    /// instance's own segment, where that VIP's GARP must not appear.
    @Test(arguments: VRRPRouter.Kind.allCases)
    func aVIPOnAnotherInterfaceIsAnnouncedThere(_ kind: VRRPRouter.Kind) throws {
        let tag = "o\(kind.rawValue.prefix(1))"
        let pair = try SwitchedPair(tag: tag, segments: 2, prefix: "tkc")
        defer { pair.remove() }
        var captures: [String] = []
        var dumps: [Spawned] = []
        defer {
            for d in dumps { d.stop() }
            for c in captures { try? FileManager.default.removeItem(atPath: c); try? FileManager.default.removeItem(atPath: c + ".err") }
        }
        for s in 0..<2 {
            let capture = NSTemporaryDirectory() + "tkc-dev-\(getpid())-\(tag)-\(s).txt"
            captures.append(capture)
            dumps.append(try pair.b.start(["tcpdump", "-i", pair.interface("b", s), "-nn", "-e", "-l", "arp"], stdout: capture, stderr: capture + ".err"))
        }
        usleep(500_000)
        let other = VRRPTestConfig.vip(1)
        let config = VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "a", instances: [
            .init(vips: [VRRPTestConfig.vip(0), "\(other)/24 dev \(pair.interface("a", 1))"], extra: ["garp_master_repeat 2", "garp_master_delay 60"]),
        ]).replacingOccurrences(of: "/24 dev \(pair.interface("a", 1))/24", with: "/24 dev \(pair.interface("a", 1))")
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", other) }, "\(router.log)")
        usleep(1_000_000)
        let mac = Shell.run(["ip", "-n", pair.a.name, "-br", "link", "show", pair.interface("a", 1)]).stdout
            .split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first.map(String.init) ?? "?"
        let garp = "Request who-has \(other) (ff:ff:ff:ff:ff:ff) tell \(other)"
        let there = Vectors.readText(captures[1]).split(separator: "\n").filter { $0.contains(garp) }
        let own = Vectors.readText(captures[0]).split(separator: "\n").filter { $0.contains(garp) }
        #expect(there.count == 2 && there.allSatisfy { $0.contains("\(mac) > ff:ff:ff:ff:ff:ff") }, "mac \(mac)\n\(Vectors.readText(captures[1]))\n\(router.log)")
        #expect(own.isEmpty, "\(own)")
    }

    /// garp_extra_if all 1: while MASTER, one GARP a second for the address on the other
    /// segment (besides its first one), none more for the instance's own. The control,
    /// without `all`, is keepalived's "no extra VMAC, so off": only the first GARP.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func garpExtraIfRepeatsOnTheOtherInterface(_ kind: VRRPRouter.Kind, _ all: Bool) throws {
        let tag = "x\(kind.rawValue.prefix(1))\(all ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, segments: 2, prefix: "tkc")
        defer { pair.remove() }
        var captures: [String] = []
        var dumps: [Spawned] = []
        defer {
            for d in dumps { d.stop() }
            for c in captures { try? FileManager.default.removeItem(atPath: c); try? FileManager.default.removeItem(atPath: c + ".err") }
        }
        for s in 0..<2 {
            let capture = NSTemporaryDirectory() + "tkc-extra-\(getpid())-\(tag)-\(s).txt"
            captures.append(capture)
            dumps.append(try pair.b.start(["tcpdump", "-i", pair.interface("b", s), "-nn", "-l", "arp"], stdout: capture, stderr: capture + ".err"))
        }
        usleep(500_000)
        let own = VRRPTestConfig.vip(0), other = VRRPTestConfig.vip(1)
        let config = VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "a", instances: [
            .init(vips: [own, "\(other)/24 dev \(pair.interface("a", 1))"],
                  extra: ["garp_master_repeat 1", "garp_master_delay 60", "garp_extra_if \(all ? "all " : "")1"]),
        ]).replacingOccurrences(of: "/24 dev \(pair.interface("a", 1))/24", with: "/24 dev \(pair.interface("a", 1))")
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", other) }, "\(router.log)")
        usleep(3_600_000)
        func count(_ s: Int, _ vip: String) -> Int {
            Vectors.readText(captures[s]).split(separator: "\n").filter { $0.contains("Request who-has \(vip) (ff:ff:ff:ff:ff:ff) tell \(vip)") }.count
        }
        #expect(count(0, own) == 1, "\(Vectors.readText(captures[0]))")
        if all {
            // The first one, then one each second (at an advert's time in keepalived).
            #expect((3...5).contains(count(1, other)), "\(Vectors.readText(captures[1]))\n\(router.log)")
        } else {
            #expect(count(1, other) == 1, "\(Vectors.readText(captures[1]))")
        }
        #expect(!router.log.contains("not supported"), "\(router.log)")
    }

    /// garp_master_delay's second burst outlives a lost mastership too: a becomes MASTER (2
    /// GARPs), is overruled at +0.5 s, is MASTER again after the silence (2 more), and its
    /// first second burst, due at +3 s, still goes out (2 more: 6 by +3.7 s, the second
    /// mastership's own burst coming later). The control keeps the higher priority talking
    /// past +3.7 s: a is BACKUP when the burst is due and only the first 2 are seen.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func secondBurstOutlivesALostMastership(_ kind: VRRPRouter.Kind, _ regain: Bool) throws {
        let tag = "s\(kind.rawValue.prefix(1))\(regain ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, prefix: "tkc")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tkc-sb-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(500_000)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 100, extra: [
            "garp_master_repeat 2", "garp_master_delay 3", "garp_lower_prio_repeat 0",
        ])]))
        defer { router.remove() }
        let vip = VRRPTestConfig.vip(0)
        try #require(eventually(within: 10) { pair.holds("a", vip) }, "\(router.log)")
        let master = Date()
        let garp = "Request who-has \(vip) (ff:ff:ff:ff:ff:ff) tell \(vip)"
        func count() -> Int { Vectors.readText(capture).split(separator: "\n").filter { $0.contains(garp) }.count }
        let sender = try RawIPv4Sender(namespace: pair.b.name, interface: pair.interface("b", 0))
        let source = IPAddress(pair.address("b", 0))!, group = Advertisement.groupV4
        func advert() throws {
            let a = Advertisement(version: .v3, virtualRouterID: UInt8(c.vrid), priority: 200, interval: 20, addresses: [IPAddress(vip)!],
                                  authenticationType: 0, authenticationData: [])
            try sender.send(source: source.bytes, destination: group.bytes, ttl: 255, payload: a.encode(source: source, destination: group))
        }
        usleep(500_000)
        try advert()
        try #require(eventually(within: 2) { !pair.holds("a", vip) }, "\(router.log)")
        if regain {
            #expect(eventually(within: 2) { pair.holds("a", vip) }, "\(router.log)")
            usleep(UInt32(max(0, 3.7 - Date().timeIntervalSince(master)) * 1_000_000))
        } else {
            while Date().timeIntervalSince(master) < 3.7 {
                try advert()
                usleep(200_000)
            }
        }
        #expect(count() == (regain ? 6 : 2), "\(Vectors.readText(capture))\n\(router.log)")
    }
}
