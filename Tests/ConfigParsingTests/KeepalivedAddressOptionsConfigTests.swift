import ConfigParsing
import IPAddressing
import Testing

/// A virtual_ipaddress line's `-nodad` and `preferred_lft`, and the iproute2 words
/// keepalived 2.2.7 does not know (`nodad`, `valid_lft`), read as keepalived reads them
/// (vrrp_ipaddress.c; the messages were taken from its `-t`). The control of each is the
/// plain address: no message, and keepalived's defaults.
@Suite struct KeepalivedAddressOptionsConfigTests {
    static func parse(_ lines: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse("vrrp_instance V {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n\(lines)\n }\n}\n",
                                         file: "/k.conf")
    }

    static func messages(_ c: KeepalivedConfiguration) -> [String] {
        (c.errors + c.toleratedErrors + c.unsupported).map(\.description)
    }

    @Test func nodadAndPreferredLifetimeAreActedOn() throws {
        let c = try Self.parse("  fd00::1/64 -nodad\n  fd00::2/64 preferred_lft 30\n  fd00::3/128 preferred_lft forever\n  fd00::4/64 preferred_lft 0")
        #expect(Self.messages(c).isEmpty, "\(Self.messages(c))")
        let v = c.instances.first?.virtualAddresses ?? []
        try #require(v.count == 4)
        #expect(v[0].detectsDuplicates && !v[0].addedWithoutDAD && v[0].kernelPreferredLifetime == nil)
        #expect(v[1].kernelPreferredLifetime == 30 && v[1].addedWithoutDAD)
        #expect(v[2].kernelPreferredLifetime == nil && v[3].kernelPreferredLifetime == 0)
        // IPv4: keepalived reads both and acts on neither.
        let four = try Self.parse("  10.1.1.1/24 preferred_lft 0 -nodad")
        let f = four.instances.first?.virtualAddresses.first
        #expect(Self.messages(four).isEmpty && f?.kernelPreferredLifetime == nil && f?.addedWithoutDAD == false)
        // Control: plain addresses get keepalived's defaults: IPv6 added nodad, a /128
        // deprecated (preferred lifetime 0), anything wider preferred forever.
        let plain = try Self.parse("  fd00::1/64\n  fd00::3/128")
        let p = plain.instances.first?.virtualAddresses ?? []
        try #require(p.count == 2 && Self.messages(plain).isEmpty)
        #expect(p[0].addedWithoutDAD && p[0].kernelPreferredLifetime == nil)
        #expect(p[1].addedWithoutDAD && p[1].kernelPreferredLifetime == 0)
    }

    @Test func wordsKeepalivedDoesNotKnowAreReportedAndSkipped() throws {
        let c = try Self.parse("  fd00::1/64 nodad\n  fd00::2/64 valid_lft forever dev eth1\n  fd00::9/64 valid_lft 10 preferred_lft 5")
        // keepalived's -t exits 5 on these and runs with the addresses; Tandem does too (not 4).
        #expect(c.unsupported.isEmpty && c.errors.isEmpty, "\(Self.messages(c))")
        #expect(c.toleratedErrors.map(\.description) == [
            "/k.conf:5:14: error: Unknown configuration entry 'nodad' for ip address - ignoring (at `nodad')",
            "/k.conf:6:14: error: Unknown configuration entry 'valid_lft' for ip address - ignoring (at `valid_lft')",
            "/k.conf:6:24: error: Unknown configuration entry 'forever' for ip address - ignoring (at `forever')",
            "/k.conf:7:14: error: Unknown configuration entry 'valid_lft' for ip address - ignoring (at `valid_lft')",
            "/k.conf:7:24: error: Unknown configuration entry '10' for ip address - ignoring (at `10')",
        ])
        let v = c.instances.first?.virtualAddresses ?? []
        #expect(v.count == 3 && v[1].device == "eth1" && v[2].kernelPreferredLifetime == 5)
    }

    @Test func badPreferredLifetimesAreKeepalivedsErrors() throws {
        let c = try Self.parse("  fd00::1/64 preferred_lft -1\n  fd00::2/64 preferred_lft 4294967296\n  fd00::3/64 preferred_lft 1.5\n  fd00::4/64 preferred_lft\n  fd00::5/64 label x")
        #expect(c.toleratedErrors.map(\.message) == [
            "negative number '-1'", "preferred_lft -1 is invalid",
            "number '4294967296' outside unsigned integer range", "preferred_lft 4294967296 is invalid",
            "invalid number '1.5'", "preferred_lft 1.5 is invalid",
            "No preferred_lft parameter specified for fd00::4/64",
            "Cannot specify label for IPv6 addresses (fd00::5/64) - ignoring label",
        ])
        // A bad value leaves the default; a missing one drops the address, as in keepalived.
        let v = c.instances.first?.virtualAddresses ?? []
        #expect(v.map(\.address.description) == ["fd00::1", "fd00::2", "fd00::3", "fd00::5"])
        #expect(v.allSatisfy { $0.kernelPreferredLifetime == nil } && v[3].label == nil)
        // Control: the largest value is accepted (and is forever).
        let top = try Self.parse("  fd00::1/64 preferred_lft 4294967295")
        #expect(top.toleratedErrors.isEmpty && top.instances.first?.virtualAddresses.first?.kernelPreferredLifetime == nil)
    }
}
