import ConfigParsing
import IPAddressing
import Testing

/// Inputs the fuzzers (Sources/FuzzHarnesses) found, kept as regressions.
@Suite struct ConfigFuzzFindingsTests {
    static func instance(_ vip: String) -> String {
        """
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                \(vip)
            }
        }
        """
    }

    /// A virtual address of "/" alone split into no parts at all and trapped; it is now
    /// an error on its line. The control: an ordinary address with a prefix still loads.
    @Test func virtualAddressOfASlashIsAnError() throws {
        let bad = try KeepalivedConfigParser.parse(Self.instance("/"), configID: nil)
        #expect(bad.errors.contains { $0.message.contains("invalid address") }, "\(bad.errors)")

        let good = try KeepalivedConfigParser.parse(Self.instance("10.0.0.41/24"), configID: nil)
        #expect(good.errors.isEmpty, "\(good.errors)")
        #expect(good.instances.first?.virtualAddresses.first?.prefix == 24)
    }

    /// The same shape in virtual_routes.
    @Test func virtualRouteOfASlashIsAnError() throws {
        #expect(throws: VirtualRoute.ParseError.self) { try VirtualRoute(["/", "dev", "eth0"]) }
        #expect(try VirtualRoute(["10.55.0.0/24", "dev", "eth0"]).prefix == 24)
    }
}
