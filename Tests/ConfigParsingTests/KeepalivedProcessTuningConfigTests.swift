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
