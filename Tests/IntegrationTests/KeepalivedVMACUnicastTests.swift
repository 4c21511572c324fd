import Foundation
import TestSupport
import Testing

/// use_vmac with unicast peers, as keepalived 2.2.7 runs it: the adverts leave from the
/// base interface (it sets vmac_xmit_base and says so), to the peer's base address, and
/// the VIP sits on the master's VMAC. Tandem and keepalived as a pair, each in turn the
/// higher priority: one master holding the VIP on its vrrp.51, the other backup, and the
/// backup takes over when the master stops. The control: with the adverts dropped between
/// them, both hold the VIP, which the check of a single master would catch.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedVMACUnicastTests {
    static let vip = "10.77.0.100"

    static func config(_ pair: SwitchedPair, side: String, priority: Int) -> String {
        let other = side == "a" ? "b" : "a"
        return """
        vrrp_instance VI_1 {
            state BACKUP
            interface \(pair.interface(side, 0))
            use_vmac
            virtual_router_id 51
            priority \(priority)
            advert_int 0.2
            version 3
            unicast_src_ip \(pair.address(side, 0))
            unicast_peer {
                \(pair.address(other, 0))
            }
            virtual_ipaddress {
                \(vip)/24
            }
        }

        """
    }

    /// The link holding the VIP on `side` (`vrrp.51`), nil when none does.
    static func holder(_ pair: SwitchedPair, _ side: String) -> String? {
        pair.namespace(side).run(["ip", "-4", "-o", "addr", "show", "to", vip]).stdout.split(separator: " ").dropFirst().first.map(String.init)
    }

    /// `high` runs on side a with priority 100, `low` on side b with 90.
    func run(high: VRRPRouter.Kind, low: VRRPRouter.Kind, blocked: Bool = false) throws -> (before: [String?], after: [String?], logs: String) {
        let pair = try SwitchedPair(tag: "vu\(high.rawValue.prefix(1))\(blocked ? "x" : "")", prefix: "tkvu")
        defer { pair.remove() }
        if blocked { pair.blockVRRP(true) }
        let a = try VRRPRouter(high, in: pair.a, config: Self.config(pair, side: "a", priority: 100))
        defer { a.remove() }
        let b = try VRRPRouter(low, in: pair.b, config: Self.config(pair, side: "b", priority: 90))
        defer { b.remove() }
        _ = eventually(within: 10) { Self.holder(pair, "a") != nil && (blocked ? Self.holder(pair, "b") != nil : true) }
        // Long enough for a backup that hears nothing to have taken over (Master_Down ~0.7 s).
        usleep(1_500_000)
        let before = [Self.holder(pair, "a"), Self.holder(pair, "b")]
        a.stop()
        _ = eventually(within: 5) { Self.holder(pair, "b") != nil && Self.holder(pair, "a") == nil }
        let after = [Self.holder(pair, "a"), Self.holder(pair, "b")]
        return (before, after, a.log + "\n---\n" + b.log)
    }

    @Test(arguments: [(VRRPRouter.Kind.tandem, VRRPRouter.Kind.keepalived), (.keepalived, .tandem)])
    func oneMasterOnItsVMACAndFailover(_ high: VRRPRouter.Kind, _ low: VRRPRouter.Kind) throws {
        let r = try run(high: high, low: low)
        #expect(r.before[0]?.hasPrefix("vrrp.51") == true && r.before[1] == nil, "\(r.before)\n\(r.logs)")
        #expect(r.after[0] == nil && r.after[1]?.hasPrefix("vrrp.51") == true, "\(r.after)\n\(r.logs)")
        if high == .tandem {
            #expect(r.logs.contains("unicast with use_vmac requires vmac_xmit_base - setting"), "\(r.logs)")
        }
    }

    @Test func controlWithTheAdvertsDroppedBothHoldTheVIP() throws {
        let r = try run(high: .tandem, low: .keepalived, blocked: true)
        #expect(r.before[0]?.hasPrefix("vrrp.51") == true && r.before[1]?.hasPrefix("vrrp.51") == true, "\(r.before)\n\(r.logs)")
    }
}
