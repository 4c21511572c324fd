import Foundation
import TestSupport
import Testing

/// A SIGHUP that changes a MASTER's virtual_routes, beside keepalived 2.2.7: the route
/// taken out of the file goes, the one put in comes, the one kept stays, and the instance
/// stays MASTER throughout. The control is the picture before the reload: the first file's
/// routes, so the change is the reload's doing.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedVirtualRouteReloadTests {
    static func config(_ second: String) -> String {
        "vrrp_instance VI_1 {\n  interface tkgv0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n"
            + "  virtual_routes {\n    10.143.70.0/24 via 10.143.0.9 dev tkgv0\n    \(second) via 10.143.0.9 dev tkgv0\n  }\n"
            + "  virtual_ipaddress {\n    10.143.1.1/24\n  }\n}\n"
    }

    @Test func aReloadAppliesAMastersRouteChanges() throws {
        var namespaces: [TestNamespace] = []
        defer { for ns in namespaces { ns.remove() } }
        for tag in ["rra", "rrb"] { namespaces.append(try KeepalivedStaticTrackingTests.namespace(tag)) }
        let t = try VRRPRouter(.tandem, in: namespaces[0], config: Self.config("10.143.74.0/24"))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: namespaces[1], config: Self.config("10.143.74.0/24"))
        defer { k.remove() }
        let has = KeepalivedStaticTrackingTests.hasRoute
        try #require(eventually(within: 15) { namespaces.allSatisfy { has($0, "10.143.70.0/24") && has($0, "10.143.74.0/24") } }, "\(t.log)\n\(k.log)")
        #expect(namespaces.allSatisfy { !has($0, "10.143.75.0/24") })
        for r in [t, k] {
            try Self.config("10.143.75.0/24").write(toFile: r.configPath, atomically: true, encoding: .utf8)
            r.signal(SIGHUP)
        }
        #expect(eventually(within: 10) {
            namespaces.allSatisfy { has($0, "10.143.70.0/24") && has($0, "10.143.75.0/24") && !has($0, "10.143.74.0/24") }
        }, "\(t.log)\n\(k.log)")
        for log in [t.log, k.log] { #expect(log.components(separatedBy: "(VI_1) Entering MASTER STATE").count - 1 == 1, "\(log)") }
    }
}
