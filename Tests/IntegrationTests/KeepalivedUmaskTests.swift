import Foundation
import TestSupport
import Testing

/// global_defs' umask beside keepalived 2.2.7: with `umask 0` the data dump each tool
/// writes is 666, while the pid files stay 644 (keepalived lifts the mask for them); the
/// control, the same file without it, writes its dump 600 (keepalived's own default mask,
/// 0177), on both.
@Suite(.enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedUmaskTests {
    static func modes(_ kind: VRRPRouter.Kind, masked: Bool) throws -> (pid: String, dump: String) {
        let ns = try KeepalivedStaticTrackingTests.namespace("um\(kind.rawValue.prefix(1))\(masked ? "m" : "c")")
        defer { ns.remove() }
        let config = (masked ? "global_defs {\n  umask 0\n}\n" : "")
            + "vrrp_instance V {\n  interface tkgv0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.143.1.1/24\n  }\n}\n"
        let router = try VRRPRouter(kind, in: ns, config: config)
        defer { router.remove() }
        let path = router.directory + "/k.pid"
        try #require(eventually(within: 15) { KeepalivedStaticTrackingTests.holds(ns, "10.143.1.1") }, "\(router.log)")
        _ = router.dump(SIGUSR1, file: "keepalived.data")
        func mode(_ file: String) throws -> String {
            String(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int ?? -1, radix: 8)
        }
        return (try mode(path), try mode(router.directory + "/keepalived.data"))
    }

    @Test(arguments: VRRPRouter.Kind.allCases)
    func theDumpTakesTheMaskAndThePidFilesDoNot(_ kind: VRRPRouter.Kind) throws {
        let masked = try Self.modes(kind, masked: true)
        #expect(masked.pid == "644" && masked.dump == "666", "\(kind) with umask 0: \(masked)")
        let plain = try Self.modes(kind, masked: false)
        #expect(plain.pid == "644" && plain.dump == "600", "\(kind) without umask: \(plain)")
    }
}
