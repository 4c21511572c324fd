import ConfigParsing
import Testing

/// skip_check_adv_addr and global_defs' vrrp_skip_check_adv_addr as keepalived 2.2.7 reads
/// them (vrrp_parser.c, vrrp_data.c's alloc_vrrp).
@Suite struct KeepalivedSkipCheckAdvertConfigTests {
    static func parse(_ text: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse(text, file: "/k.conf", links: { KeepalivedStaticTrackGroupConfigTests.links })
    }

    static func instance(_ name: String, _ extra: String = "") -> String {
        "vrrp_instance \(name) {\n  interface eth0\n  virtual_router_id \(name == "A" ? 51 : 52)\n\(extra)}\n"
    }

    @Test func theGlobalReachesTheInstancesReadAfterIt() throws {
        let c = try Self.parse(Self.instance("A") + "global_defs {\n  vrrp_skip_check_adv_addr\n}\n" + Self.instance("B"))
        #expect(c.instances.map(\.skipCheckAdvertAddresses) == [false, true])
        #expect(c.unsupported.isEmpty && c.errors.isEmpty)
    }

    /// keepalived 2.2.7 turns it on for `false` too; an unreadable value is its error.
    @Test func theInstanceKeywordTurnsItOnWhateverTheValue() throws {
        let c = try Self.parse(Self.instance("A", "  skip_check_adv_addr false\n") + Self.instance("B", "  skip_check_adv_addr maybe\n"))
        #expect(c.instances.map(\.skipCheckAdvertAddresses) == [true, false])
        #expect(KeepalivedStaticTrackGroupConfigTests.said(c.toleratedErrors) == ["/k.conf:9:23: error: (B) invalid skip_check_adv_addr maybe specified (at `maybe')"])
        // The control: not written, not on.
        #expect(try Self.parse(Self.instance("A")).instances.map(\.skipCheckAdvertAddresses) == [false])
    }
}
