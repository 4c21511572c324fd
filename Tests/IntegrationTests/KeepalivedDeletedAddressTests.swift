import Foundation
import TestSupport
import Testing

/// Addresses deleted by hand under a running keepalived 2.2.7 and under Tandem, each in a
/// namespace of its own: a static_ipaddress comes back at once (keepalived_netlink.c's
/// RTM_DELADDR walk of static_addresses, reinstate_static_address) unless written
/// `no_track`; a MASTER's VIP deleted with its secondary in the same subnet (the kernel
/// drops secondaries with their primary, promote_secondaries being left unset) falls to
/// BACKUP and, alone on its segment, puts both back.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedDeletedAddressTests {
    static let instance = "vrrp_instance VI_1 {\n  interface tkfv0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n"
        + "  virtual_ipaddress {\n    10.141.1.1/24\n    10.141.1.2/24\n  }\n}\n"

    static func namespace(_ tag: String) throws -> TestNamespace {
        let ns = try TestNamespace(tag, prefix: "tkf")
        for command in ["ip link add tkfv0 type veth peer name tkfv1", "ip link set tkfv1 up", "ip link set tkfv0 up",
                        "ip addr add 10.141.0.1/24 dev tkfv0"] {
            let r = ns.run(["sh", "-c", command])
            if r.status != 0 { ns.remove(); throw TestSetupError("\(command): \(r.stderr)") }
        }
        return ns
    }

    static func holds(_ ns: TestNamespace, _ address: String) -> Bool {
        !ns.run(["ip", "-4", "-o", "addr", "show", "dev", "tkfv0", "to", address]).stdout.isEmpty
    }

    func beside(_ tag: String, config: String, _ body: (_ ours: TestNamespace, _ theirs: TestNamespace, _ t: VRRPRouter, _ k: VRRPRouter) throws -> Void) throws {
        let a = try Self.namespace(tag + "a")
        defer { a.remove() }
        let b = try Self.namespace(tag + "b")
        defer { b.remove() }
        let t = try VRRPRouter(.tandem, in: a, config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: b, config: config)
        defer { k.remove() }
        try body(a, b, t, k)
    }

    /// The tracked static address is put back, with keepalived's log line; the control,
    /// deleted at the same moment: the `no_track` one stays gone on both.
    @Test func aDeletedStaticAddressIsPutBackUnlessNoTrack() throws {
        let config = "static_ipaddress {\n  10.141.5.1/24 dev tkfv0\n  10.141.6.1/24 dev tkfv0 no_track\n}\n" + Self.instance
        try beside("sd", config: config) { a, b, t, k in
            try #require(eventually(within: 15) {
                [a, b].allSatisfy { Self.holds($0, "10.141.5.1") && Self.holds($0, "10.141.6.1") && Self.holds($0, "10.141.1.1") }
            }, "\(t.log)\n\(k.log)")
            for ns in [a, b] {
                ns.run(["sh", "-c", "ip addr del 10.141.5.1/24 dev tkfv0 && ip addr del 10.141.6.1/24 dev tkfv0"])
            }
            #expect(eventually(within: 15) { Self.holds(a, "10.141.5.1") && Self.holds(b, "10.141.5.1") }, "\(t.log)\n\(k.log)")
            let line = "Restoring deleted static address 10.141.5.1/24 dev tkfv0 scope global set"
            #expect(k.log.contains(line) && t.log.contains(line), "\(t.log)\n\(k.log)")
            #expect(!Self.holds(a, "10.141.6.1") && !Self.holds(b, "10.141.6.1"))
            #expect(!t.log.contains("10.141.6.1/24 dev tkfv0 scope global set") && !k.log.contains("Restoring deleted static address 10.141.6.1"))
            // The instance was not disturbed by either: MASTER all along.
            for log in [t.log, k.log] { #expect(log.components(separatedBy: "(VI_1) Entering BACKUP STATE").count - 1 == 1, "\(log)") }
        }
    }

    /// Two VIPs in one subnet: deleting the primary takes the secondary too (neither tool
    /// sets promote_secondaries on a plain interface), the instance falls to BACKUP and
    /// puts both back. The control: a hand-made pair in another subnet of the same
    /// interface loses its secondary the same way and nothing brings either back.
    @Test func aPrimaryVIPDeletedTakesItsSecondaryAndBothComeBack() throws {
        try beside("sp", config: Self.instance) { a, b, t, k in
            try #require(eventually(within: 15) {
                [a, b].allSatisfy { Self.holds($0, "10.141.1.1") && Self.holds($0, "10.141.1.2") }
            }, "\(t.log)\n\(k.log)")
            for ns in [a, b] {
                #expect(ns.run(["cat", "/proc/sys/net/ipv4/conf/tkfv0/promote_secondaries"]).stdout.hasPrefix("0"))
                ns.run(["sh", "-c", "ip addr add 10.141.9.1/24 dev tkfv0 && ip addr add 10.141.9.2/24 dev tkfv0"])
                ns.run(["sh", "-c", "ip addr del 10.141.9.1/24 dev tkfv0 && ip addr del 10.141.1.1/24 dev tkfv0"])
            }
            // Through BACKUP (the start's, then the deletion's) and back to MASTER with both.
            #expect(eventually(within: 15) {
                [t.log, k.log].allSatisfy { $0.components(separatedBy: "(VI_1) Entering MASTER STATE").count - 1 >= 2 }
                    && [a, b].allSatisfy { Self.holds($0, "10.141.1.1") && Self.holds($0, "10.141.1.2") }
            }, "\(t.log)\n\(k.log)")
            for log in [t.log, k.log] { #expect(log.components(separatedBy: "(VI_1) Entering BACKUP STATE").count - 1 >= 2, "\(log)") }
            #expect([a, b].allSatisfy { !Self.holds($0, "10.141.9.1") && !Self.holds($0, "10.141.9.2") })
        }
    }
}
