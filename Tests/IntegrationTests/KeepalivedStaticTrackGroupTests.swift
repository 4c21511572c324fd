import Foundation
import TestSupport
import Testing

/// Static track groups beside keepalived 2.2.7: the instances of the group named on a
/// static address, route or rule track its interface (TRACK_SADDR / SROUTE / SRULE), so
/// it going down puts them in FAULT. VI_T (10.143.1.1) is in the group of a tracked
/// static, VI_N (10.143.2.1, the control on the same link event) in the group of a
/// `no_track` one; both run on tkgv0, the statics are on tkgw0.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedStaticTrackGroupTests {
    static func config(statics: String) -> String {
        var s = "track_group G_T {\n  group {\n    VI_T\n  }\n}\ntrack_group G_N {\n  group {\n    VI_N\n  }\n}\n" + statics
        for (name, vrid, vip) in [("VI_T", 51, "10.143.1.1/24"), ("VI_N", 52, "10.143.2.1/24")] {
            s += "vrrp_instance \(name) {\n  interface tkgv0\n  virtual_router_id \(vrid)\n  priority 100\n  advert_int 1\n"
                + "  virtual_ipaddress {\n    \(vip)\n  }\n}\n"
        }
        return s
    }

    @Test func aStaticsInterfaceGoingDownFaultsItsTrackGroup() throws {
        let statics = "static_ipaddress {\n  10.143.84.1/24 dev tkgw0 track_group G_T\n  10.143.86.1/24 dev tkgw0 track_group G_N no_track\n}\n"
        let s = try KeepalivedRouteTrackingTests().statesWhileDown(Self.config(statics: statics), link: "tkgw0", tag: "sa")
        #expect(s.tracked == ["FAULT", "FAULT"] && s.control == ["MASTER", "MASTER"], "\(s)")
    }

    /// A rule's `iif` tracked through the group; the control's group names a `no_track` route.
    @Test func aStaticRulesInputInterfaceGoingDownFaultsItsTrackGroup() throws {
        let statics = "static_rules {\n  from 10.143.88.0/24 iif tkgw0 table 100 priority 100 track_group G_T\n}\n"
            + "static_routes {\n  10.143.89.0/24 via 10.143.10.9 dev tkgw0 no_track track_group G_N\n}\n"
        let s = try KeepalivedRouteTrackingTests().statesWhileDown(Self.config(statics: statics), link: "tkgw0", tag: "sr")
        #expect(s.tracked == ["FAULT", "FAULT"] && s.control == ["MASTER", "MASTER"], "\(s)")
    }
}
