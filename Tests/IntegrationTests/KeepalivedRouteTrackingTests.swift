import Foundation
import TestSupport
import Testing

/// The interface of a tracked virtual route, beside keepalived 2.2.7: keepalived tracks it
/// for the instance (vrrp_complete_instance, TRACK_ROUTE), so it going down puts the
/// instance in FAULT; a route written `no_track` does not. Each side runs two instances on
/// tkgv0, each with a route via tkgw0, one `no_track`: when tkgw0 goes down, the tracked
/// one goes FAULT and the other (the control, same link event) stays MASTER, on both.
/// The same for a virtual rule's `iif` (TRACK_RULE).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedRouteTrackingTests {
    static func instance(_ name: String, vrid: Int, route: String, vip: String) -> String {
        "vrrp_instance \(name) {\n  interface tkgv0\n  virtual_router_id \(vrid)\n  priority 100\n  advert_int 1\n"
            + "  virtual_routes {\n    \(route)\n  }\n  virtual_ipaddress {\n    \(vip)\n  }\n}\n"
    }

    static let config = instance("VI_T", vrid: 51, route: "10.143.80.0/24 via 10.143.10.9 dev tkgw0", vip: "10.143.1.1/24")
        + instance("VI_N", vrid: 52, route: "10.143.81.0/24 via 10.143.10.9 dev tkgw0 no_track", vip: "10.143.2.1/24")

    @Test func aTrackedRoutesInterfaceGoingDownIsAFaultUnlessNoTrack() throws {
        var namespaces: [TestNamespace] = []
        defer { for ns in namespaces { ns.remove() } }
        for tag in ["rta", "rtb"] { namespaces.append(try KeepalivedStaticTrackingTests.namespace(tag)) }
        let t = try VRRPRouter(.tandem, in: namespaces[0], config: Self.config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: namespaces[1], config: Self.config)
        defer { k.remove() }
        let holds = KeepalivedStaticTrackingTests.holds
        try #require(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") && holds($0, "10.143.2.1") } }, "\(t.log)\n\(k.log)")
        for ns in namespaces { ns.run(["ip", "link", "set", "tkgw0", "down"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { !holds($0, "10.143.1.1") } }, "\(t.log)\n\(k.log)")
        let (ours, theirs) = (t.data(), k.data())
        let state = KeepalivedAddressNoTrackTests.state
        #expect(state("VI_T", theirs) == "FAULT" && state("VI_T", ours) == "FAULT", "\(ours)\n\(theirs)")
        #expect(state("VI_N", theirs) == "MASTER" && state("VI_N", ours) == "MASTER", "\(ours)\n\(theirs)")
        #expect(namespaces.allSatisfy { holds($0, "10.143.2.1") })
        // The link back: the tracked one returns to MASTER on both.
        for ns in namespaces { ns.run(["ip", "link", "set", "tkgw0", "up"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") } }, "\(t.log)\n\(k.log)")
    }

    /// dont_track_primary with a tracked virtual route whose `dev` is the instance's own
    /// interface: keepalived 2.2.7 tracks the route's interface whatever it is (unlike an
    /// address's), so the instance still goes FAULT when it goes down. The control: the
    /// same route written `no_track` leaves its dont_track_primary instance MASTER, on both.
    @Test func dontTrackPrimaryLeavesARouteOnTheOwnInterfaceTracked() throws {
        let dontTrack = { (text: String) in text.replacingOccurrences(of: "  advert_int 1\n", with: "  advert_int 1\n  dont_track_primary\n") }
        let config = dontTrack(Self.instance("VI_P", vrid: 51, route: "10.143.80.0/24 via 10.143.0.9 dev tkgv0", vip: "10.143.2.1/24"))
            + dontTrack(Self.instance("VI_D", vrid: 52, route: "10.143.81.0/24 via 10.143.0.9 dev tkgv0 no_track", vip: "10.143.1.1/24"))
        var namespaces: [TestNamespace] = []
        defer { for ns in namespaces { ns.remove() } }
        for tag in ["rda", "rdb"] { namespaces.append(try KeepalivedStaticTrackingTests.namespace(tag)) }
        let t = try VRRPRouter(.tandem, in: namespaces[0], config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: namespaces[1], config: config)
        defer { k.remove() }
        let holds = KeepalivedStaticTrackingTests.holds
        try #require(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") && holds($0, "10.143.2.1") } }, "\(t.log)\n\(k.log)")
        for ns in namespaces { ns.run(["ip", "link", "set", "tkgv0", "down"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { !holds($0, "10.143.2.1") } }, "\(t.log)\n\(k.log)")
        let (ours, theirs) = (t.data(), k.data())
        let state = KeepalivedAddressNoTrackTests.state
        #expect(state("VI_P", theirs) == "FAULT" && state("VI_P", ours) == "FAULT", "\(ours)\n\(theirs)")
        #expect(state("VI_D", theirs) == "MASTER" && state("VI_D", ours) == "MASTER", "tandem \(state("VI_D", ours) ?? "-") keepalived \(state("VI_D", theirs) ?? "-")\n\(t.log)\n\(k.log)")
        for ns in namespaces { ns.run(["ip", "link", "set", "tkgv0", "up"]) }
    }

    static func ruleInstance(_ name: String, vrid: Int, rule: String, vip: String) -> String {
        "vrrp_instance \(name) {\n  interface tkgv0\n  virtual_router_id \(vrid)\n  priority 100\n  advert_int 1\n"
            + "  virtual_rules {\n    \(rule)\n  }\n  virtual_ipaddress {\n    \(vip)\n  }\n}\n"
    }

    @Test func aTrackedRulesInputInterfaceGoingDownIsAFaultUnlessNoTrack() throws {
        let config = Self.ruleInstance("VI_T", vrid: 51, rule: "from 10.143.82.0/24 iif tkgw0 table 100", vip: "10.143.1.1/24")
            + Self.ruleInstance("VI_N", vrid: 52, rule: "from 10.143.83.0/24 iif tkgw0 table 101 no_track", vip: "10.143.2.1/24")
        var namespaces: [TestNamespace] = []
        defer { for ns in namespaces { ns.remove() } }
        for tag in ["ria", "rib"] { namespaces.append(try KeepalivedStaticTrackingTests.namespace(tag)) }
        let t = try VRRPRouter(.tandem, in: namespaces[0], config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: namespaces[1], config: config)
        defer { k.remove() }
        let holds = KeepalivedStaticTrackingTests.holds
        try #require(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") && holds($0, "10.143.2.1") } }, "\(t.log)\n\(k.log)")
        for ns in namespaces { ns.run(["ip", "link", "set", "tkgw0", "down"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { !holds($0, "10.143.1.1") } }, "\(t.log)\n\(k.log)")
        let (ours, theirs) = (t.data(), k.data())
        let state = KeepalivedAddressNoTrackTests.state
        #expect(state("VI_T", theirs) == "FAULT" && state("VI_T", ours) == "FAULT", "\(ours)\n\(theirs)")
        #expect(state("VI_N", theirs) == "MASTER" && state("VI_N", ours) == "MASTER", "\(ours)\n\(theirs)")
        #expect(namespaces.allSatisfy { holds($0, "10.143.2.1") })
        for ns in namespaces { ns.run(["ip", "link", "set", "tkgw0", "up"]) }
        #expect(eventually(within: 15) { namespaces.allSatisfy { holds($0, "10.143.1.1") } }, "\(t.log)\n\(k.log)")
    }
}
