import Foundation
import TestSupport
import Testing

/// default_interface beside keepalived 2.2.7: a static address written without `dev` goes
/// on the interface it names (tkgw0), not on eth0, which the namespace does not have.
@Suite(.enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedDefaultInterfaceTests {
    @Test(arguments: VRRPRouter.Kind.allCases)
    func aStaticAddressWithoutDevGoesOnTheDefaultInterface(_ kind: VRRPRouter.Kind) throws {
        let ns = try KeepalivedStaticTrackingTests.namespace("di\(kind.rawValue.prefix(1))")
        defer { ns.remove() }
        let config = "global_defs {\n  default_interface tkgw0\n}\nstatic_ipaddress {\n  10.143.60.1/24\n}\n"
            + "vrrp_instance V {\n  interface tkgv0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.143.1.1/24\n  }\n}\n"
        let router = try VRRPRouter(kind, in: ns, config: config)
        defer { router.remove() }
        #expect(eventually(within: 15) { !ns.run(["ip", "-4", "-o", "addr", "show", "dev", "tkgw0", "to", "10.143.60.1"]).stdout.isEmpty },
                "\(kind): \(router.log)")
    }
}
