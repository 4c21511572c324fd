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

    /// A definition naming itself four times grew 4^16-fold in the line layer's sixteen
    /// rounds: gigabytes and no end from a 34-byte file (found reading the line layer
    /// while profiling the keepalived-conf fuzz target). A substitution is now refused where keepalived's 1024-byte line buffer
    /// refuses it: an error on the line, which goes. The control: a substitution that
    /// fits is made, and the same value twice on one line is refused.
    @Test func aDefinitionThatOutgrowsTheLineIsAnError() throws {
        var filter = KeepalivedLineFilter(configID: nil)
        let out = filter.apply("$A=${A}${A}${A}${A}\n${A}\nkept\n", file: "k.conf")
        #expect(out == "\n\nkept\n")
        #expect(filter.errors.map(\.message) == ["parameter substitution would exceed the maximum line length (1023 bytes)"])
        #expect(filter.errors.first?.location == SourceLocation(file: "k.conf", line: 2, column: 1))

        let long = String(repeating: "x", count: 1000)
        var fits = KeepalivedLineFilter(configID: nil)
        #expect(fits.apply("$B=\(long)\n${B}\n", file: "k.conf") == "\n\(long)\n")
        #expect(fits.errors.isEmpty)
        var twice = KeepalivedLineFilter(configID: nil)
        #expect(twice.apply("$B=\(long)\n${B} ${B}\n", file: "k.conf") == "\n\n")
        #expect(twice.errors.count == 1)

        let parsed = try KeepalivedConfigParser.parse("$A=${A}${A}${A}${A}\nglobal_defs {\n  router_id ${A}\n}\n", configID: nil)
        #expect(parsed.errors.contains { $0.message.contains("maximum line length") }, "\(parsed.errors)")
    }
}
