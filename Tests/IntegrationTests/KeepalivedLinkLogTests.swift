import Foundation
import TestSupport
import Testing

/// "Netlink reports IF up/down" is logged, as keepalived 2.2.7 logs it, only for the
/// interfaces an instance follows: here a VIP's device. A static address's interface and
/// one nothing uses go down and up as well, and neither tool says a word about them (the
/// control: Tandem used to log every interface). Both tools run the same file in
/// namespaces of their own and must leave the same lines.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedLinkLogTests {
    func reported(_ kind: VRRPRouter.Kind) throws -> [String] {
        let ns = try TestNamespace("ll\(kind.rawValue.prefix(1))", prefix: "tkll")
        defer { ns.remove() }
        for (a, b) in [("tkla0", "tklb0"), ("tklc0", "tkld0"), ("tkle0", "tklf0"), ("tklg0", "tklh0")] {
            #expect(ns.run(["ip", "link", "add", a, "type", "veth", "peer", "name", b]).status == 0)
            ns.run(["ip", "link", "set", a, "up"])
            ns.run(["ip", "link", "set", b, "up"])
        }
        ns.run(["ip", "addr", "add", "10.143.77.1/24", "dev", "tkla0"])
        let router = try VRRPRouter(kind, in: ns, config: """
        static_ipaddress {
            10.143.81.1/24 dev tkle0
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface tkla0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                10.143.77.100/24
                10.143.78.100/24 dev tklc0
            }
        }

        """)
        defer { router.remove() }
        #expect(eventually(within: 10) { router.log.contains("Entering BACKUP STATE") }, "\(router.log)")
        for name in ["tklc0", "tkle0", "tklg0"] { ns.run(["ip", "link", "set", name, "down"]) }
        #expect(eventually(within: 5) { router.log.contains("Netlink reports tklc0 down") }, "\(router.log)")
        for name in ["tklc0", "tkle0", "tklg0"] { ns.run(["ip", "link", "set", name, "up"]) }
        #expect(eventually(within: 5) { router.log.contains("Netlink reports tklc0 up") }, "\(router.log)")
        // Time for a line about the other two, had either tool written one.
        usleep(500_000)
        router.stop()
        return router.log.split(separator: "\n").compactMap { line in
            line.range(of: "Netlink reports ").map { String(line[$0.upperBound...]) }
        }
    }

    @Test func onlyFollowedInterfacesAreReported() throws {
        let tandem = try reported(.tandem), keepalived = try reported(.keepalived)
        #expect(keepalived == ["tklc0 down", "tklc0 up"], "keepalived: \(keepalived)")
        #expect(tandem == keepalived, "tandem: \(tandem), keepalived: \(keepalived)")
    }
}
