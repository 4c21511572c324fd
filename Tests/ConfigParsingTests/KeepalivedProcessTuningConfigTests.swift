import ConfigParsing
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// vrrp_no_swap and vrrp_cpu_affinity as keepalived 2.2.7 reads them (global_parser.c).
@Suite struct KeepalivedProcessTuningConfigTests {
    static func parse(_ lines: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse("global_defs {\n\(lines)}\n", file: "/k.conf", links: { [] })
    }

    @Test func readAsKeepalivedReadsThem() throws {
        let c = try Self.parse("  vrrp_no_swap\n  vrrp_cpu_affinity 0 0\n")
        #expect(c.lockedInMemory && c.cpuAffinity == [0])
        #expect(c.toleratedErrors.isEmpty && c.errors.isEmpty && c.unsupported.isEmpty)
        // The control: neither written, neither set.
        let plain = try Self.parse("  router_id r1\n")
        #expect(!plain.lockedInMemory && plain.cpuAffinity.isEmpty)
    }

    /// A CPU that is not online, or not a number, drops the whole set, as keepalived's reset.
    @Test func aBadCPUDropsTheSet() throws {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        let c = try Self.parse("  vrrp_cpu_affinity 0 \(online)\n")
        #expect(c.cpuAffinity.isEmpty)
        #expect(c.toleratedErrors.map(\.description) == ["/k.conf:2:23: error: Invalid cpu_id:\(online) specified for vrrp process (at `\(online)')"])
        let none = try Self.parse("  vrrp_cpu_affinity\n")
        #expect(none.toleratedErrors.map(\.message) == ["No vrrp cpu_id set specified"] && none.cpuAffinity.isEmpty)
    }
}

/// default_interface as keepalived 2.2.7 reads it (global_parser.c, vrrp_if.c's
/// get_default_if): the device of a static address written without one.
@Suite struct KeepalivedDefaultInterfaceConfigTests {
    @Test func aStaticAddressWithoutDevGoesOnTheDefaultInterface() throws {
        let c = try KeepalivedProcessTuningConfigTests.parse("  default_interface eth7\n}\nstatic_ipaddress {\n  10.9.5.1/24\n  10.9.6.1/24 dev eth1\n")
        #expect(c.staticAddresses.map(\.device) == ["eth7", "eth1"])
        // The control: without it, eth0.
        let plain = try KeepalivedConfigParser.parse("static_ipaddress {\n  10.9.5.1/24\n}\n", file: "/k.conf", links: { [] })
        #expect(plain.staticAddresses.map(\.device) == ["eth0"])
    }

    /// keepalived looks the default up at the first address that needs it, once.
    @Test func aDefaultNamedAfterTheFirstUseChangesNothing() throws {
        let c = try KeepalivedConfigParser.parse("static_ipaddress {\n  10.9.5.1/24\n}\nglobal_defs {\n  default_interface eth7\n}\nstatic_ipaddress {\n  10.9.6.1/24\n}\n",
                                                 file: "/k.conf", links: { [] })
        #expect(c.staticAddresses.map(\.device) == ["eth0", "eth0"])
        let none = try KeepalivedProcessTuningConfigTests.parse("  default_interface\n")
        #expect(none.toleratedErrors.map(\.message) == ["default_interface requires interface name"])
    }
}

/// global_defs' umask as keepalived 2.2.7 reads it (global_parser.c's umask_handler).
@Suite struct KeepalivedUmaskConfigTests {
    static func mask(_ words: String) throws -> (UInt32?, [String]) {
        let c = try KeepalivedProcessTuningConfigTests.parse("  umask \(words)\n")
        return (c.fileMask, c.toleratedErrors.map(\.message))
    }

    @Test func numbersAndNames() throws {
        #expect(try Self.mask("027") == (0o027, []))
        #expect(try Self.mask("0x12") == (0o022, []))
        #expect(try Self.mask("18") == (0o022, []))
        #expect(try Self.mask("IWGRP|IWOTH") == (0o022, []))
        #expect(try Self.mask("IWGRP | IWOTH|IXOTH") == (0o023, []))
        // The control: not written, no mask.
        #expect(try KeepalivedProcessTuningConfigTests.parse("  router_id r\n").fileMask == nil)
    }

    @Test func whatKeepalivedReports() throws {
        #expect(try Self.mask("0999") == (nil, ["invalid umask value 0999"]))
        #expect(try Self.mask("01000") == (nil, ["invalid umask value 01000"]))
        #expect(try Self.mask("027 1") == (nil, ["Extra parameter(s) to umask option"]))
        #expect(try Self.mask("IWGRP IWOTH") == (nil, ["Invalid umask syntax IWOTH"]))
        #expect(try Self.mask("IWGRP|") == (nil, ["umask missing bit value"]))
        #expect(try Self.mask("IFOO") == (nil, ["Unknown umask bit IFOO"]))
    }
}
