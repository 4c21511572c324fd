import Foundation
import TestSupport
import Testing

/// global_defs' VRRP defaults beside keepalived 2.2.7, in namespaces: a Tandem whose only
/// version setting is the global `vrrp_version 3` elects and hands over with a keepalived
/// speaking VRRPv3 at advert_int 0.1. The control, without the global line, speaks v2,
/// which the v3 keepalived does not accept: both end up master.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedGlobalDefaultsTests {
    static func config(_ pair: SwitchedPair, side: String, priority: Int, global: String, version: String) -> String {
        let other = side == "a" ? "b" : "a"
        return """
        global_defs {
          router_id tdu-\(side)
        \(global)
        }
        vrrp_instance VI_1 {
          state BACKUP
          interface \(pair.interface(side, 0))
          virtual_router_id 61
          priority \(priority)
          advert_int 0.1
        \(version)
          unicast_src_ip \(pair.address(side, 0))
          unicast_peer {
            \(pair.address(other, 0))
          }
          virtual_ipaddress {
            \(pair.network).0.100/24
          }
        }
        """
    }

    @Test(arguments: [true, false])
    func globalVersionThreeMeetsAVersionThreeKeepalived(globalSet: Bool) throws {
        let pair = try SwitchedPair(tag: globalSet ? "gv" : "gc", prefix: "tdu", network: "10.234")
        defer { pair.remove() }
        let vip = "\(pair.network).0.100"
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: Self.config(pair, side: "a", priority: 150,
                                                                              global: globalSet ? "  vrrp_version 3" : "", version: ""))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: Self.config(pair, side: "b", priority: 100,
                                                                                     global: "", version: "  version 3"))
        defer { keepalived.remove() }
        guard globalSet else {
            // v2 adverts are not a v3 router's: keepalived takes the address too.
            #expect(eventually(within: 10) { pair.holds("a", vip) && pair.holds("b", vip) }, "\(tandem.log)\n\(keepalived.log)")
            return
        }
        #expect(eventually(within: 10) { pair.holds("a", vip) && !pair.holds("b", vip) }, "\(tandem.log)\n\(keepalived.log)")
        // Many more adverts (0.1 s apart): keepalived keeps accepting them and stays backup.
        usleep(1_000_000)
        #expect(pair.holds("a", vip) && !pair.holds("b", vip), "\(tandem.log)\n\(keepalived.log)")
        let heard = keepalived.statistics()
        #expect((heard.value("Advertisements/Received") ?? 0) >= 5, "\(heard)")
        #expect(tandem.data().contains("VRRP Version = 3"))
        // Tandem resigns: keepalived hears priority 0 and takes over.
        tandem.stop()
        #expect(eventually(within: 5) { pair.holds("b", vip) }, "\(tandem.log)\n\(keepalived.log)")
        #expect((keepalived.statistics().value("Priority Zero/Received") ?? 0) >= 1)
    }
}
