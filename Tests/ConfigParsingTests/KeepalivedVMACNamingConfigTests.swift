import ConfigParsing
import Netlink
import Testing

/// use_vmac's name against the links already there, as keepalived 2.2.7 names it
/// (vrrp_parser.c vrrp_vmac_handler, vrrp.c vrrp_complete_instance / create_vmac_name; the
/// words were taken from its log and `-t`). The control of each: the same file with no
/// such link gives keepalived's plain vrrp.51 (or the written name).
@Suite struct KeepalivedVMACNamingConfigTests {
    static let vrrpMAC: [UInt8] = [0, 0, 0x5e, 0, 1, 51]
    static let eth0 = LinkDescription(index: 2, name: "eth0", address: [2, 0, 0, 0, 0, 1])

    static func parse(_ use: String, links: [LinkDescription]) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse("vrrp_instance V {\n interface eth0\n virtual_router_id 51\n \(use)\n virtual_ipaddress {\n  10.1.1.1/24\n }\n}\n",
                                         file: "/k.conf", links: { [eth0] + links })
    }

    static func macvlan(_ name: String, index: UInt32, parent: UInt32 = 2, mode: UInt32 = Links.macvlanPrivate, mac: [UInt8] = vrrpMAC) -> LinkDescription {
        LinkDescription(index: index, name: name, kind: "macvlan", macvlanMode: mode, parent: parent, address: mac)
    }

    @Test func aDefaultNameInUseByAnotherLinkIsSkipped() throws {
        let c = try Self.parse("use_vmac", links: [LinkDescription(index: 5, name: "vrrp.51", kind: "veth")])
        #expect(c.instances.first?.vmacName == "vrrp1.51" && c.instances.first?.existingVMAC == nil)
        #expect(c.toleratedErrors.isEmpty && c.unsupported.isEmpty)
        // So is a macvlan that is not keepalived's (bridge mode), or on another interface.
        let bridge = try Self.parse("use_vmac", links: [Self.macvlan("vrrp.51", index: 5, mode: Links.macvlanBridge)])
        let elsewhere = try Self.parse("use_vmac", links: [Self.macvlan("vrrp.51", index: 5, parent: 9)])
        #expect(bridge.instances.first?.vmacName == "vrrp1.51" && elsewhere.instances.first?.vmacName == "vrrp1.51")
        // Control: nothing of that name, keepalived's vrrp.51.
        #expect(try Self.parse("use_vmac", links: []).instances.first?.vmacName == "vrrp.51")
    }

    @Test func aWrittenNameThatIsNotAPrivateMacvlanIsIgnored() throws {
        let c = try Self.parse("use_vmac myvmac", links: [LinkDescription(index: 5, name: "myvmac", kind: "veth")])
        #expect(c.toleratedErrors.map(\.description) == [
            "/k.conf:4:11: error: (V) interface myvmac already exists and is not a private macvlan; ignoring vmac if_name (at `myvmac')",
        ])
        #expect(c.instances.first?.vmacName == "vrrp.51")
        // Control: a free name is kept.
        let free = try Self.parse("use_vmac myvmac", links: [])
        #expect(free.toleratedErrors.isEmpty && free.instances.first?.vmacName == "myvmac")
    }

    @Test func anEarlierRunsVMACIsTakenOverWhateverItsName() throws {
        let c = try Self.parse("use_vmac", links: [Self.macvlan("oldv", index: 5)])
        #expect(c.instances.first?.vmacName == "oldv" && c.instances.first?.existingVMAC == .matching)
        #expect(c.warnings.map(\.message) == ["(V) Found matching interface oldv"])
        let named = try Self.parse("use_vmac mine", links: [Self.macvlan("oldv", index: 5)])
        #expect(named.instances.first?.vmacName == "oldv")
        #expect(named.warnings.map(\.message).contains("(V) vmac name mismatch mine <=> oldv. changing to oldv."))
        // Control: with another MAC it is not the instance's, and is steered clear of.
        let other = try Self.parse("use_vmac", links: [Self.macvlan("vrrp.51", index: 5, mac: [0, 0, 0x5e, 0, 1, 52])])
        #expect(other.instances.first?.vmacName == "vrrp1.51" && other.instances.first?.existingVMAC == nil)
    }

    @Test func aWrittenNameOnAnIncompatibleMacvlanIsReplaced() throws {
        let c = try Self.parse("use_vmac vrrp.51", links: [Self.macvlan("vrrp.51", index: 5, parent: 9)])
        #expect(c.instances.first?.vmacName == "vrrp.51" && c.instances.first?.existingVMAC == .incompatible)
        #expect(c.warnings.map(\.message) == ["(V) VMAC vrrp.51 already exists but is incompatible. It will be deleted/updated"])
        #expect(c.toleratedErrors.isEmpty)
    }
}
