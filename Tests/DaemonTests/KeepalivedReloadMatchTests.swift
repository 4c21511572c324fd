import ConfigParsing
@testable import Daemon
import Testing

/// Which instances a reload keeps: a VMAC whose MAC changes (use_vmac's own MAC written,
/// changed or taken away) is a new router, its macvlan made again, as a renamed one is; the
/// control: the same file read twice is the same router.
@Suite struct KeepalivedReloadMatchTests {
    static func instance(_ use: String) throws -> KeepalivedConfiguration.Instance {
        let c = try KeepalivedConfigParser.parse("vrrp_instance A {\n interface eth0\n virtual_router_id 9\n \(use)\n virtual_ipaddress {\n  10.1.1.1/24\n }\n}\n")
        return try #require(c.instances.first)
    }

    @Test func aVMACsMACChangeIsANewRouter() throws {
        let plain = try Self.instance("use_vmac vx9"), own = try Self.instance("use_vmac vx9 02:00:00:00:00:07")
        let other = try Self.instance("use_vmac vx9 02:00:00:00:00:08")
        #expect(KeepalivedDaemon.sameRouter(plain, try Self.instance("use_vmac vx9")))
        #expect(KeepalivedDaemon.sameRouter(own, try Self.instance("use_vmac vx9 02:00:00:00:00:07")))
        #expect(!KeepalivedDaemon.sameRouter(plain, own) && !KeepalivedDaemon.sameRouter(own, other))
    }
}
