import Foundation
import TestSupport
import Testing

/// keepalived's -V (--dont-release-vrrp), beside keepalived 2.2.7: a master stopped with
/// it sends no priority 0 and leaves its VIP, its virtual route and its VMAC in place,
/// while the static address still goes. The control, each tool stopped without -V: all
/// of them go, after a priority 0.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedDontReleaseTests {
    static let config = """
    static_ipaddress {
      10.143.50.1/24 dev tkgw0
    }
    vrrp_instance V {
      interface tkgv0
      virtual_router_id 51
      priority 100
      advert_int 1
      use_vmac
      virtual_ipaddress {
        10.143.1.1/24
      }
      virtual_routes {
        10.143.80.0/24 via 10.143.0.9 dev tkgv0
      }
    }

    """

    struct Left: Equatable, CustomStringConvertible {
        var vip = false, route = false, vmac = false, staticAddress = false, priorityZero = false
        var description: String { "vip \(vip) route \(route) vmac \(vmac) static \(staticAddress) priority-0 \(priorityZero)" }
    }

    /// What one tool leaves behind once stopped, with or without -V.
    static func leftAfterStop(_ kind: VRRPRouter.Kind, dontRelease: Bool) throws -> Left {
        let ns = try KeepalivedStaticTrackingTests.namespace("dr\(kind.rawValue.prefix(1))\(dontRelease ? "v" : "c")")
        defer { ns.remove() }
        func addresses() -> String { ns.run(["ip", "-4", "-o", "addr"]).stdout }
        let router = try VRRPRouter(kind, in: ns, config: config, extra: dontRelease ? ["-V"] : [])
        defer { router.remove() }
        try #require(eventually(within: 15) { addresses().contains("vrrp.51") && addresses().contains("10.143.1.1/24") }, "\(kind): \(router.log)")
        router.stop()
        usleep(300_000)
        let a = addresses()
        return Left(vip: a.contains("10.143.1.1/24"), route: KeepalivedStaticTrackingTests.hasRoute(ns, "10.143.80.0/24"),
                    vmac: ns.run(["ip", "link", "show", "vrrp.51"]).status == 0, staticAddress: a.contains("10.143.50.1/24"),
                    priorityZero: router.log.contains("(V) sent 0 priority"))
    }

    @Test(arguments: VRRPRouter.Kind.allCases)
    func aMasterStoppedWithDontReleaseLeavesItsAddressesRoutesAndVMAC(_ kind: VRRPRouter.Kind) throws {
        let kept = try Self.leftAfterStop(kind, dontRelease: true)
        #expect(kept == Left(vip: true, route: true, vmac: true, staticAddress: false, priorityZero: false), "\(kind) with -V: \(kept)")
        let released = try Self.leftAfterStop(kind, dontRelease: false)
        #expect(released == Left(vip: false, route: false, vmac: false, staticAddress: false, priorityZero: true), "\(kind) without -V: \(released)")
    }
}
