import Conntrack
import Foundation
import TestSupport
import Testing
import VRRP

/// VRRPv3 over IPv6 between Tandem and the real keepalived 2.2.7: link-local sources to
/// ff02::12, IPv6 VIPs installed and released, unsolicited NAs on the wire. Bounds come
/// from the protocol's intervals, never from measured timings.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedIPv6Tests {
    static let interval = 0.2
    static let vip = "2001:db8:77::100"

    static func config(_ pair: SwitchedPair, side: String, priority: Int, unicast: Bool = false) -> String {
        var text = """
        global_defs {
          router_id tdt-\(side)
        }
        vrrp_instance VI_6 {
          state BACKUP
          interface \(pair.interface(side, 0))
          virtual_router_id 61
          priority \(priority)
          advert_int \(interval)
          virtual_ipaddress {
            fe80::77:1/64
            \(vip)/64
          }

        """
        if unicast {
            let other = side == "a" ? "b" : "a"
            text += "  unicast_src_ip \(linkLocal(pair, side))\n  unicast_peer {\n    \(linkLocal(pair, other))\n  }\n"
        }
        return text + "}\n"
    }

    static func linkLocal(_ pair: SwitchedPair, _ side: String) -> String { side == "a" ? "fe80::77:a" : "fe80::77:b" }

    /// A pair whose routers have fixed, already usable link-local addresses (no DAD wait).
    static func pair(_ tag: String, prefix: String = "tdt") throws -> SwitchedPair {
        let pair = try SwitchedPair(tag: tag, prefix: prefix)
        for side in ["a", "b"] {
            let ns = pair.namespace(side).name, ifname = pair.interface(side, 0)
            for argv in [["ip", "-n", ns, "-6", "addr", "flush", "dev", ifname, "scope", "link"],
                         ["ip", "-n", ns, "-6", "addr", "add", linkLocal(pair, side) + "/64", "dev", ifname, "nodad"]] {
                let r = Shell.run(argv)
                if r.status != 0 { pair.remove(); throw TestSetupError("\(argv): \(r.stderr)") }
            }
        }
        return pair
    }

    static func holds(_ pair: SwitchedPair, _ side: String, _ address: String = vip) -> Bool {
        Shell.run(["ip", "-n", pair.namespace(side).name, "-6", "-br", "addr"]).stdout.contains(address + "/")
    }

    func start(_ pair: SwitchedPair, tandemPriority: Int, keepalivedPriority: Int, unicast: Bool = false) throws -> (VRRPRouter, VRRPRouter) {
        let t = try VRRPRouter(.tandem, in: pair.a, config: Self.config(pair, side: "a", priority: tandemPriority, unicast: unicast))
        do {
            return (t, try VRRPRouter(.keepalived, in: pair.b, config: Self.config(pair, side: "b", priority: keepalivedPriority, unicast: unicast)))
        } catch {
            t.remove()
            throw error
        }
    }

    @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
    func higherPriorityWinsOverIPv6(tandemWins: Bool, unicast: Bool) throws {
        let pair = try Self.pair("v6e")
        defer { pair.remove() }
        let (t, k) = try start(pair, tandemPriority: tandemWins ? 150 : 100, keepalivedPriority: tandemWins ? 100 : 150, unicast: unicast)
        defer { t.remove(); k.remove() }
        let (winner, loser) = tandemWins ? ("a", "b") : ("b", "a")
        #expect(eventually(within: 10) { Self.holds(pair, winner) && Self.holds(pair, winner, "fe80::77:1") && !Self.holds(pair, loser) },
                "\(t.log)\n\(k.log)")
        usleep(UInt32(Self.interval * 5_000_000))
        #expect(Self.holds(pair, winner) && !Self.holds(pair, loser), "\(t.log)\n\(k.log)")
        let backup = (tandemWins ? k : t).statistics()
        #expect((backup.value("Advertisements/Received") ?? 0) > 0, "\(backup)")
        #expect(backup.value("Packet Errors/Address List") == 0 && backup.value("Packet Errors/TTL") == 0, "\(backup)")
        // A VIP added with nodad is usable at once: never tentative.
        let flags = Shell.run(["ip", "-n", pair.namespace(winner).name, "-6", "addr", "show", "to", Self.vip]).stdout
        #expect(!flags.contains("tentative"), "\(flags)")
    }

    @Test(arguments: [true, false])
    func stoppedMasterResignsAndTheBackupTakesOver(tandemMaster: Bool) throws {
        let pair = try Self.pair("v6s")
        defer { pair.remove() }
        let (t, k) = try start(pair, tandemPriority: tandemMaster ? 150 : 100, keepalivedPriority: tandemMaster ? 100 : 150)
        defer { t.remove(); k.remove() }
        let (master, backup, masterSide, backupSide) = tandemMaster ? (t, k, "a", "b") : (k, t, "b", "a")
        try #require(eventually(within: 10) { Self.holds(pair, masterSide) && !Self.holds(pair, backupSide) }, "\(t.log)\n\(k.log)")
        usleep(600_000)
        master.stop()
        // keepalived's parent relays SIGTERM to its VRRP child, so the time to the priority-0
        // advert is its own; the takeover itself (skew time) is checked with a virtual clock
        // in InstanceMachineTests. Here: the resignation is heard and acted on.
        #expect(eventually(within: 10) { Self.holds(pair, backupSide) }, "\(t.log)\n\(k.log)")
        #expect(!Self.holds(pair, masterSide), "the stopped master kept its VIP")
        let s = backup.statistics()
        #expect((s.value("Priority Zero/Received") ?? 0) >= 1, "\(s)")
    }

    @Test func killedKeepalivedMasterIsReplacedAndTandemSendsNeighbourAdvertisements() throws {
        let pair = try Self.pair("v6k")
        defer { pair.remove() }
        let (t, k) = try start(pair, tandemPriority: 100, keepalivedPriority: 150)
        defer { t.remove(); k.remove() }
        try #require(eventually(within: 10) { Self.holds(pair, "b") && !Self.holds(pair, "a") }, "\(t.log)\n\(k.log)")
        let capture = NSTemporaryDirectory() + "tdt-na-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-l", "-c", "2", "icmp6 and ip6[40] == 136"],
                                    stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        _ = eventually(within: 3) { Vectors.readText(capture + ".err").contains("listening") }
        k.kill()
        #expect(eventually(within: 10) { Self.holds(pair, "a") }, "\(t.log)")
        #expect(dump.wait(timeout: 5) == 0, "no NA seen\n\(Vectors.readText(capture))")
        let text = Vectors.readText(capture)
        #expect(text.contains("neighbor advertisement"), "\(text)")
    }
}
