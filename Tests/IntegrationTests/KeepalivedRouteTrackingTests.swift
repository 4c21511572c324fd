import Foundation
import TestSupport
import Testing

/// The interface of a tracked virtual route, beside keepalived 2.2.7: keepalived tracks it
/// for the instance (vrrp_complete_instance, TRACK_ROUTE), so it going down puts the
/// instance in FAULT; a route written `no_track` does not. Each side runs two instances on
/// tkgv0: VI_T, whose route or rule is tracked, holding 10.143.1.1, and VI_N, the control
/// on the same link event, holding 10.143.2.1. When the link goes down VI_T goes FAULT and
/// VI_N stays MASTER, on both; when it comes back VI_T is MASTER again.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedRouteTrackingTests {
    static func instance(_ name: String, vrid: Int, block: String = "virtual_routes", line: String, vip: String, extra: String = "") -> String {
        "vrrp_instance \(name) {\n  interface tkgv0\n  virtual_router_id \(vrid)\n  priority 100\n  advert_int 1\n\(extra)"
            + "  \(block) {\n    \(line)\n  }\n  virtual_ipaddress {\n    \(vip)\n  }\n}\n"
    }

    /// Both tools on `config`, each in a namespace of its own; `link` goes down, then up.
    /// Returns the states of VI_T and VI_N while it was down, each as (tandem, keepalived).
    func statesWhileDown(_ config: String, link: String, tag: String) throws -> (tracked: [String?], control: [String?]) {
        var namespaces: [TestNamespace] = []
        defer { for ns in namespaces { ns.remove() } }
        for side in ["a", "b"] { namespaces.append(try KeepalivedStaticTrackingTests.namespace(tag + side)) }
        let t = try VRRPRouter(.tandem, in: namespaces[0], config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: namespaces[1], config: config)
        defer { k.remove() }
        let holds = KeepalivedStaticTrackingTests.holds
        try #require(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") && holds($0, "10.143.2.1") } }, "\(t.log)\n\(k.log)")
        for ns in namespaces { ns.run(["ip", "link", "set", link, "down"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { !holds($0, "10.143.1.1") } }, "\(t.log)\n\(k.log)")
        let (ours, theirs) = (t.data(), k.data())
        let state = KeepalivedAddressNoTrackTests.state
        #expect(namespaces.allSatisfy { holds($0, "10.143.2.1") }, "\(t.log)\n\(k.log)")
        // The link back: the tracked one returns to MASTER on both.
        for ns in namespaces { ns.run(["ip", "link", "set", link, "up"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") } }, "\(t.log)\n\(k.log)")
        return ([state("VI_T", ours), state("VI_T", theirs)], [state("VI_N", ours), state("VI_N", theirs)])
    }

    @Test func aTrackedRoutesInterfaceGoingDownIsAFaultUnlessNoTrack() throws {
        let config = Self.instance("VI_T", vrid: 51, line: "10.143.80.0/24 via 10.143.10.9 dev tkgw0", vip: "10.143.1.1/24")
            + Self.instance("VI_N", vrid: 52, line: "10.143.81.0/24 via 10.143.10.9 dev tkgw0 no_track", vip: "10.143.2.1/24")
        let s = try statesWhileDown(config, link: "tkgw0", tag: "rt")
        #expect(s.tracked == ["FAULT", "FAULT"] && s.control == ["MASTER", "MASTER"], "\(s)")
    }

    /// dont_track_primary with a tracked virtual route whose `dev` is the instance's own
    /// interface: keepalived 2.2.7 tracks the route's interface whatever it is (unlike an
    /// address's), so the instance still goes FAULT when it goes down. The control: the
    /// same route written `no_track` leaves its dont_track_primary instance MASTER, on both.
    @Test func dontTrackPrimaryLeavesARouteOnTheOwnInterfaceTracked() throws {
        let config = Self.instance("VI_T", vrid: 51, line: "10.143.80.0/24 via 10.143.0.9 dev tkgv0", vip: "10.143.1.1/24", extra: "  dont_track_primary\n")
            + Self.instance("VI_N", vrid: 52, line: "10.143.81.0/24 via 10.143.0.9 dev tkgv0 no_track", vip: "10.143.2.1/24", extra: "  dont_track_primary\n")
        let s = try statesWhileDown(config, link: "tkgv0", tag: "rd")
        #expect(s.tracked == ["FAULT", "FAULT"] && s.control == ["MASTER", "MASTER"], "\(s)")
    }

    /// A virtual rule's `iif` (TRACK_RULE), the control the same rule `no_track`.
    @Test func aTrackedRulesInputInterfaceGoingDownIsAFaultUnlessNoTrack() throws {
        let config = Self.instance("VI_T", vrid: 51, block: "virtual_rules", line: "from 10.143.82.0/24 iif tkgw0 table 100", vip: "10.143.1.1/24")
            + Self.instance("VI_N", vrid: 52, block: "virtual_rules", line: "from 10.143.83.0/24 iif tkgw0 table 101 no_track", vip: "10.143.2.1/24")
        let s = try statesWhileDown(config, link: "tkgw0", tag: "ri")
        #expect(s.tracked == ["FAULT", "FAULT"] && s.control == ["MASTER", "MASTER"], "\(s)")
    }
}
