import Foundation
import TestSupport
import Testing

/// Static addresses, routes and rules put back beside keepalived 2.2.7, each daemon in a
/// namespace of its own: on an interface coming up again (brought down and up, or deleted
/// and made again) its static addresses and the static routes naming it come back unless
/// written `no_track` (interface_up → static_track_group_reinstate_config); a static route
/// or rule deleted by hand comes back only where keepalived listens for such deletions,
/// which it does for a family in which an instance tracks a virtual route or rule.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedStaticTrackingTests {
    static func namespace(_ tag: String) throws -> TestNamespace {
        let ns = try TestNamespace(tag, prefix: "tkg")
        for command in ["ip link add tkgv0 type veth peer name tkgv1", "ip link set tkgv1 up", "ip link set tkgv0 up",
                        "ip addr add 10.143.0.1/24 dev tkgv0",
                        "ip link add tkgw0 type veth peer name tkgw1", "ip link set tkgw1 up", "ip link set tkgw0 up",
                        "ip addr add 10.143.10.1/24 dev tkgw0"] {
            let r = ns.run(["sh", "-c", command])
            if r.status != 0 { ns.remove(); throw TestSetupError("\(command): \(r.stderr)") }
        }
        return ns
    }

    static func holds(_ ns: TestNamespace, _ address: String) -> Bool {
        !ns.run(["ip", "-4", "-o", "addr", "show", "dev", "tkgv0", "to", address]).stdout.isEmpty
    }

    static func hasRoute(_ ns: TestNamespace, _ prefix: String) -> Bool {
        ns.run(["ip", "-4", "route", "show", prefix]).stdout.contains(prefix)
    }

    static func hasRule(_ ns: TestNamespace, _ prefix: String) -> Bool {
        ns.run(["ip", "-4", "rule", "show"]).stdout.contains("from \(prefix)")
    }

    func beside(_ tag: String, config: String, _ body: (_ namespaces: [TestNamespace], _ t: VRRPRouter, _ k: VRRPRouter) throws -> Void) throws {
        let a = try Self.namespace(tag + "a")
        defer { a.remove() }
        let b = try Self.namespace(tag + "b")
        defer { b.remove() }
        let t = try VRRPRouter(.tandem, in: a, config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: b, config: config)
        defer { k.remove() }
        try body([a, b], t, k)
    }

    /// The instance lives on tkgw0, so only the statics see tkgv0 go. Brought down and up,
    /// the tracked route (gone with the link) is back and the `no_track` one is not; deleted
    /// and made again, the tracked address and route are back and the `no_track` address,
    /// gone with the link like the others, is not.
    @Test func anInterfaceComingUpAgainGetsItsStaticsBack() throws {
        let config = """
        static_ipaddress {
          10.143.5.1/24 dev tkgv0
          10.143.6.1/24 dev tkgv0 no_track
        }
        static_routes {
          10.143.50.0/24 via 10.143.0.9 dev tkgv0
          10.143.52.0/24 via 10.143.0.9 dev tkgv0 no_track
        }
        vrrp_instance VI_1 {
          interface tkgw0
          virtual_router_id 51
          priority 100
          advert_int 1
          virtual_ipaddress {
            10.143.11.1/24
          }
        }

        """
        try beside("ia", config: config) { namespaces, t, k in
            try #require(eventually(within: 15) {
                namespaces.allSatisfy { Self.holds($0, "10.143.5.1") && Self.holds($0, "10.143.6.1") && Self.hasRoute($0, "10.143.50.0/24")
                    && Self.hasRoute($0, "10.143.52.0/24") }
            }, "\(t.log)\n\(k.log)")
            for ns in namespaces { ns.run(["sh", "-c", "ip link set tkgv0 down && sleep 0.5 && ip link set tkgv0 up"]) }
            #expect(eventually(within: 10) { namespaces.allSatisfy { Self.hasRoute($0, "10.143.50.0/24") } }, "\(t.log)\n\(k.log)")
            let route = "Restoring deleted static route prepend 10.143.50.0/24 via inet 10.143.0.9 dev tkgv0 proto 18"
            #expect(t.log.contains(route) && k.log.contains(route), "\(t.log)\n\(k.log)")
            #expect(namespaces.allSatisfy { !Self.hasRoute($0, "10.143.52.0/24") })
            for ns in namespaces {
                ns.run(["sh", "-c", "ip link del tkgv0 && sleep 0.5 && ip link add tkgv0 type veth peer name tkgv1 && "
                        + "ip addr add 10.143.0.1/24 dev tkgv0 && ip link set tkgv1 up && ip link set tkgv0 up"])
            }
            #expect(eventually(within: 10) {
                namespaces.allSatisfy { Self.holds($0, "10.143.5.1") && Self.hasRoute($0, "10.143.50.0/24") }
            }, "\(t.log)\n\(k.log)")
            let address = "Restoring deleted static address 10.143.5.1/24 dev tkgv0 scope global set"
            #expect(t.log.contains(address) && k.log.contains(address), "\(t.log)\n\(k.log)")
            #expect(namespaces.allSatisfy { !Self.holds($0, "10.143.6.1") && !Self.hasRoute($0, "10.143.52.0/24") })
            for log in [t.log, k.log] {
                #expect(!log.contains("Restoring deleted static address 10.143.6.1") && !log.contains("10.143.52.0/24 via inet"), "\(log)")
            }
        }
    }

    /// Routes and rules deleted by hand. `watched`: the instance tracks a virtual route and
    /// a virtual rule, so both daemons hear the deletions and put the tracked static route
    /// and rule back (the `no_track` ones, deleted at the same moment, stay gone). The
    /// control, without them: keepalived 2.2.7 does not listen, and nothing comes back.
    @Test(arguments: [true, false])
    func deletedStaticRoutesAndRulesComeBackWhereKeepalivedListens(watched: Bool) throws {
        let virtuals = watched ? """
          virtual_routes {
            10.143.70.0/24 via 10.143.0.9 dev tkgv0
          }
          virtual_rules {
            from 10.143.71.0/24 table 101 priority 101
          }

        """ : ""
        let config = """
        static_routes {
          10.143.50.0/24 via 10.143.0.9 dev tkgv0
          10.143.52.0/24 via 10.143.0.9 dev tkgv0 no_track
        }
        static_rules {
          from 10.143.60.0/24 table 100 priority 100
          from 10.143.62.0/24 table 100 priority 102 no_track
        }
        vrrp_instance VI_1 {
          interface tkgv0
          virtual_router_id 51
          priority 100
          advert_int 1
        \(virtuals)  virtual_ipaddress {
            10.143.1.1/24
          }
        }

        """
        try beside(watched ? "dw" : "du", config: config) { namespaces, t, k in
            try #require(eventually(within: 15) {
                namespaces.allSatisfy { Self.holds($0, "10.143.1.1") && Self.hasRoute($0, "10.143.50.0/24") && Self.hasRoute($0, "10.143.52.0/24")
                    && Self.hasRule($0, "10.143.60.0/24") && Self.hasRule($0, "10.143.62.0/24") }
            }, "\(t.log)\n\(k.log)")
            for ns in namespaces {
                ns.run(["sh", "-c", "ip route del 10.143.50.0/24 && ip route del 10.143.52.0/24 && "
                        + "ip rule del from 10.143.60.0/24 table 100 priority 100 && ip rule del from 10.143.62.0/24 table 100 priority 102"])
            }
            let back = eventually(within: watched ? 10 : 3) {
                namespaces.allSatisfy { Self.hasRoute($0, "10.143.50.0/24") && Self.hasRule($0, "10.143.60.0/24") }
            }
            #expect(back == watched, "\(t.log)\n\(k.log)")
            if !watched {
                #expect(namespaces.allSatisfy { !Self.hasRoute($0, "10.143.50.0/24") && !Self.hasRule($0, "10.143.60.0/24") })
            }
            let route = "Restoring deleted static route prepend 10.143.50.0/24 via inet 10.143.0.9 dev tkgv0 proto 18"
            let rule = "Restoring deleted static rule from 10.143.60.0/24 priority 100 tos 0x0 protocol 18 lookup 100"
            for log in [t.log, k.log] {
                #expect(log.contains(route) == watched && log.contains(rule) == watched, "\(log)")
                #expect(!log.contains("10.143.52.0/24 via inet") && !log.contains("from 10.143.62.0/24 priority"), "\(log)")
            }
            #expect(namespaces.allSatisfy { !Self.hasRoute($0, "10.143.52.0/24") && !Self.hasRule($0, "10.143.62.0/24") })
            // The instance was not disturbed: MASTER all along.
            for log in [t.log, k.log] { #expect(log.components(separatedBy: "(VI_1) Entering BACKUP STATE").count - 1 == 1, "\(log)") }
        }
    }

    /// A MASTER's virtual route, then its virtual rule, deleted by hand: each time both
    /// daemons fall to BACKUP and, the election won again, put it back. The control, first:
    /// the `no_track` route and rule deleted, both stay MASTER and those stay gone.
    @Test func aMastersDeletedVirtualRouteOrRuleIsPutBackThroughBackup() throws {
        let config = """
        vrrp_instance VI_1 {
          interface tkgv0
          virtual_router_id 51
          priority 100
          advert_int 1
          virtual_routes {
            10.143.70.0/24 via 10.143.0.9 dev tkgv0
            10.143.72.0/24 via 10.143.0.9 dev tkgv0 no_track
          }
          virtual_rules {
            from 10.143.71.0/24 table 101 priority 101
            from 10.143.73.0/24 table 101 priority 103 no_track
          }
          virtual_ipaddress {
            10.143.1.1/24
          }
        }

        """
        func masters(_ log: String) -> Int { log.components(separatedBy: "(VI_1) Entering MASTER STATE").count - 1 }
        try beside("vr", config: config) { namespaces, t, k in
            try #require(eventually(within: 15) {
                namespaces.allSatisfy { Self.hasRoute($0, "10.143.70.0/24") && Self.hasRoute($0, "10.143.72.0/24")
                    && Self.hasRule($0, "10.143.71.0/24") && Self.hasRule($0, "10.143.73.0/24") }
            }, "\(t.log)\n\(k.log)")
            for ns in namespaces {
                ns.run(["sh", "-c", "ip route del 10.143.72.0/24 && ip rule del from 10.143.73.0/24 table 101 priority 103"])
            }
            // Given time to react, neither does.
            #expect(!eventually(within: 3) { masters(t.log) > 1 || masters(k.log) > 1 }, "\(t.log)\n\(k.log)")
            #expect(namespaces.allSatisfy { !Self.hasRoute($0, "10.143.72.0/24") && !Self.hasRule($0, "10.143.73.0/24") })
            for ns in namespaces { ns.run(["ip", "route", "del", "10.143.70.0/24"]) }
            #expect(eventually(within: 10) {
                masters(t.log) == 2 && masters(k.log) == 2 && namespaces.allSatisfy { Self.hasRoute($0, "10.143.70.0/24") }
            }, "\(t.log)\n\(k.log)")
            for ns in namespaces { ns.run(["ip", "rule", "del", "from", "10.143.71.0/24", "table", "101", "priority", "101"]) }
            #expect(eventually(within: 10) {
                masters(t.log) == 3 && masters(k.log) == 3 && namespaces.allSatisfy { Self.hasRule($0, "10.143.71.0/24") }
            }, "\(t.log)\n\(k.log)")
            for log in [t.log, k.log] { #expect(log.components(separatedBy: "(VI_1) Entering BACKUP STATE").count - 1 == 3, "\(log)") }
            #expect(t.log.contains("(VI_1) virtual route 10.143.70.0/24 via 10.143.0.9 dev tkgv0 was deleted"), "\(t.log)")
        }
    }
}
