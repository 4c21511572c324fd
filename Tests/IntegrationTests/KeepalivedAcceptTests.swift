import Foundation
import TestSupport
import Testing

/// `accept`: a master's virtual address answers traffic for itself, under Tandem as under
/// keepalived 2.2.7. The control is keepalived with `no_accept`, whose firewall rules
/// make the same address silent — the ping below can tell the two apart (Tandem's own
/// no_accept: KeepalivedNoAcceptFirewallTests).
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived") && Shell.which("ping"),
                             "needs root, keepalived and ping"))
struct KeepalivedAcceptTests {
    static let c = VRRPTestConfig(version: 3, interval: 0.2)
    static let vip = VRRPTestConfig.vip(0)

    /// Whether the master's address answers a ping from the other side.
    func answers(_ kind: VRRPRouter.Kind, mode: String) throws -> Bool {
        let pair = try SwitchedPair(tag: "ac\(kind.rawValue.prefix(1))\(mode.prefix(1))", prefix: "tk2")
        defer { pair.remove() }
        let a = try VRRPRouter(kind, in: pair.a, config: Self.c.text(pair, side: "a", instances: [.init(priority: 150, extra: [mode])]))
        defer { a.remove() }
        #expect(eventually(within: 8) { pair.holds("a", Self.vip) }, "\(kind) \(mode): \(a.log)")
        usleep(500_000)
        return pair.b.run(["ping", "-c", "2", "-W", "1", "-i", "0.2", Self.vip], timeout: 10).status == 0
    }

    @Test func acceptedTrafficAsUnderKeepalived() throws {
        let tandem = try answers(.tandem, mode: "accept"), keepalived = try answers(.keepalived, mode: "accept")
        #expect(tandem && keepalived, "tandem \(tandem) keepalived \(keepalived)")
        // The control: keepalived's no_accept silences the address.
        #expect(try !answers(.keepalived, mode: "no_accept"))
    }

}
