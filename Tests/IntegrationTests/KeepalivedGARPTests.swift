import Foundation
import TestSupport
import Testing

/// Gratuitous ARPs on the wire: a burst of garp_master_repeat on becoming master and a
/// second burst garp_master_delay later, the same from Tandem as from keepalived.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("tcpdump") && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"),
                             "needs root, tcpdump and keepalived"))
struct KeepalivedGARPTests {
    @Test(arguments: VRRPRouter.Kind.allCases)
    func twoBurstsGarpMasterDelayApart(_ kind: VRRPRouter.Kind) throws {
        let pair = try SwitchedPair(tag: "ga\(kind.rawValue.prefix(1))")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tdt-garp-\(getpid())-\(kind).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(500_000)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [.init(extra: ["garp_master_delay 1", "garp_master_repeat 2"])]))
        defer { router.remove() }
        let vip = VRRPTestConfig.vip(0)
        let garp = "Request who-has \(vip) (ff:ff:ff:ff:ff:ff) tell \(vip)"
        func times() -> [Double] {
            Vectors.readText(capture).split(separator: "\n").filter { $0.contains(garp) }.compactMap { Double($0.split(separator: " ")[0]) }
        }
        #expect(eventually(within: 10) { times().count >= 4 }, "\(Vectors.readText(capture))\n\(router.log)")
        usleep(300_000)
        let t = times()
        try #require(t.count == 4, "\(Vectors.readText(capture))")
        // Two back to back, then two more after the delay (1 s, give or take scheduling).
        #expect(t[1] - t[0] < 0.5 && t[2] - t[1] > 0.8 && t[3] - t[2] < 0.5, "\(t)")
    }

    /// garp_master_refresh: while MASTER, the VIPs are announced again every period.
    @Test(arguments: VRRPRouter.Kind.allCases)
    func refreshRepeatsWhileMaster(_ kind: VRRPRouter.Kind) throws {
        let pair = try SwitchedPair(tag: "gr\(kind.rawValue.prefix(1))")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tdt-garpr-\(getpid())-\(kind).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 0), "-nn", "-tt", "-l", "arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        usleep(500_000)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let extra = ["garp_master_delay 30", "garp_master_repeat 1", "garp_master_refresh 1", "garp_master_refresh_repeat 1"]
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [.init(extra: extra)]))
        defer { router.remove() }
        let vip = VRRPTestConfig.vip(0)
        let garp = "Request who-has \(vip) (ff:ff:ff:ff:ff:ff) tell \(vip)"
        func count() -> Int { Vectors.readText(capture).split(separator: "\n").filter { $0.contains(garp) }.count }
        // One on becoming master, then one a second: four within a few seconds, where
        // without refresh there would be one until the second burst 30 s later.
        #expect(eventually(within: 10) { count() >= 4 }, "\(Vectors.readText(capture))\n\(router.log)")
    }
}
