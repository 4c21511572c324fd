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

    /// keepalived's if_get_by_vmac for use_vmac_addr: a private macvlan with the VRRP MAC on
    /// the address's interface is taken over under its name, not stepped around.
    @Test func anEarlierRunsAddressVMACIsTakenOverWhateverItsName() throws {
        let eth1 = LinkDescription(index: 3, name: "eth1", address: [2, 0, 0, 0, 0, 2])
        let file = "vrrp_instance V {\n interface eth0\n virtual_router_id 51\n use_vmac_addr\n virtual_ipaddress {\n"
            + "  10.1.1.1/24\n  10.1.2.1/24 dev eth1\n }\n}\n"
        let parse = { (links: [LinkDescription]) in try KeepalivedConfigParser.parse(file, file: "/k.conf", links: { [Self.eth0, eth1] + links }) }
        let c = try parse([Self.macvlan("old51", index: 5, parent: 3)])
        #expect(c.instances.first?.virtualAddresses.map(\.vmacDevice) == [nil, "old51"])
        #expect(c.instances.first?.existingAddressVMACs == ["old51"] && c.toleratedErrors.isEmpty)
        // Control: on another interface, or with another VRID's MAC, it is not this
        // address's: a new vrrp.51 is made, and the existing one is not ours.
        for other in [Self.macvlan("old51", index: 5, parent: 2), Self.macvlan("old51", index: 5, parent: 3, mac: [0, 0, 0x5e, 0, 1, 52])] {
            let d = try parse([other])
            #expect(d.instances.first?.virtualAddresses.map(\.vmacDevice) == [nil, "vrrp.51"])
            #expect(d.instances.first?.existingAddressVMACs.isEmpty == true)
        }
    }

    @Test func aWrittenNameOnAnIncompatibleMacvlanIsReplaced() throws {
        let c = try Self.parse("use_vmac vrrp.51", links: [Self.macvlan("vrrp.51", index: 5, parent: 9)])
        #expect(c.instances.first?.vmacName == "vrrp.51" && c.instances.first?.existingVMAC == .incompatible)
        #expect(c.warnings.map(\.message) == ["(V) VMAC vrrp.51 already exists but is incompatible. It will be deleted/updated"])
        #expect(c.toleratedErrors.isEmpty)
    }
}

/// An address's own `use_vmac` (keepalived 2.2.7's per-address use_vmac_addr, checked in
/// vrrp_complete_instance; the words from its `-t`).
@Suite struct KeepalivedAddressVMACConfigTests {
    static func parse(_ instances: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse(instances, file: "/k.conf", links: { [KeepalivedVMACNamingConfigTests.eth0] })
    }

    static func instance(_ name: String, _ vrid: Int, _ option: String, _ lines: String) -> String {
        "vrrp_instance \(name) {\n interface eth0\n virtual_router_id \(vrid)\n \(option)\n virtual_ipaddress {\n\(lines)\n }\n}\n"
    }

    @Test func anAddressOfItsOwnGetsAMacvlanOfItsInterface() throws {
        let c = try Self.parse(Self.instance("V", 51, "", "  10.1.1.1/24 use_vmac\n  10.1.1.2/24 dev eth1 use_vmac\n  10.1.1.3/24"))
        #expect(c.toleratedErrors.isEmpty && c.unsupported.isEmpty, "\(c.toleratedErrors) \(c.unsupported)")
        let v = c.instances.first?.virtualAddresses ?? []
        try #require(v.count == 3)
        // One macvlan per interface: the instance's own, then eth1's.
        #expect(v[0].vmacDevice == "vrrp.51" && v[0].device == "eth0" && v[0].useVMAC)
        #expect(v[1].vmacDevice == "vrrp1.51" && v[1].device == "eth1")
        // Control: the address without the word stays on the interface.
        #expect(v[2].vmacDevice == nil && v[2].device == nil && !v[2].useVMAC)
    }

    @Test func whereTheInstanceCoversItKeepalivedSaysSo() throws {
        let c = try Self.parse(Self.instance("VI_1", 51, "use_vmac", "  10.1.1.1/24 use_vmac\n  10.1.1.2/24 dev eth1 use_vmac")
                               + Self.instance("VI_2", 52, "use_vmac_addr", "  10.1.2.1/24 use_vmac\n  10.1.2.2/24 dev eth1 use_vmac"))
        #expect(c.toleratedErrors.map(\.message) == [
            "(VI_1) use_vmac specified for VIP/eVIP 10.1.1.1/24 and vrrp instance",
            "(VI_2) use_vmac_addr specified and use_vmac specified for VIP/eVIP 10.1.2.2/24",
        ])
        let one = c.instances[0].virtualAddresses, two = c.instances[1].virtualAddresses
        // On the instance's VMAC as any address; eth1's gets its macvlan all the same.
        #expect(one[0].vmacDevice == nil && !one[0].useVMAC && one[1].vmacDevice != nil && one[1].useVMAC)
        #expect(two[0].vmacDevice != nil && two[0].useVMAC && two[1].vmacDevice != nil && !two[1].useVMAC)
    }

    @Test func aStaticAddressDoesNotKnowIt() throws {
        let c = try Self.parse("static_ipaddress {\n  10.1.3.1/24 dev eth0 use_vmac\n}\n")
        #expect(c.toleratedErrors.map(\.message) == ["Unknown configuration entry 'use_vmac' for ip address - ignoring"])
        #expect(c.unsupported.isEmpty)
    }

    struct NoNetlink: Error, CustomStringConvertible { var description: String { "EPERM" } }

    /// A host whose links cannot be listed: the first use_vmac that needed them says so
    /// (a warning at its line), and the name is chosen as if no link existed. The control:
    /// a listing that works says nothing.
    @Test func aFailedLinkListingIsAWarning() throws {
        let text = "vrrp_instance V {\n interface eth0\n virtual_router_id 51\n use_vmac\n virtual_ipaddress {\n  10.1.1.1/24\n }\n}\n"
        let failed = try KeepalivedConfigParser.parse(text, file: "/k.conf", links: { throw NoNetlink() })
        #expect(failed.warnings.map(\.description).contains { $0.hasPrefix("/k.conf:4:2: ") && $0.contains("cannot list this host's links (EPERM): VMAC names are chosen as if none existed") },
                "\(failed.warnings)")
        #expect(failed.instances.first?.vmacName == "vrrp.51")
        let listed = try KeepalivedConfigParser.parse(text, file: "/k.conf", links: { [KeepalivedVMACNamingConfigTests.eth0] })
        #expect(!listed.warnings.map(\.description).contains { $0.contains("cannot list") }, "\(listed.warnings)")
    }
}
