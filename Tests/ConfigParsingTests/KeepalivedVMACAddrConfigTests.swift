import ConfigParsing
import IPAddressing
import Testing

/// use_vmac_addr, vmac_prefix and vmac_addr_prefix read as keepalived 2.2.7 completes an
/// instance (vrrp.c: vrrp_complete_instance, create_vmac_name): which addresses get a
/// macvlan, what it is called, and garp_extra_if serving it. The control of each is the
/// same file without the keyword.
@Suite struct KeepalivedVMACAddrConfigTests {
    static func parse(global: String = "", lines: String, addresses: String = "  10.1.0.1/24\n  10.1.1.1/24 dev eth1\n  10.1.1.2/24 dev eth1\n  10.1.2.1/24 dev eth2",
                      vrid: Int = 51) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse("global_defs {\n\(global)\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id \(vrid)\n\(lines)\n virtual_ipaddress {\n\(addresses)\n }\n}\n",
                                         file: "/k.conf")
    }

    @Test func addressesOnOtherInterfacesGetAMacvlanEach() throws {
        let c = try Self.parse(lines: " use_vmac_addr")
        #expect(c.unsupported.isEmpty && c.errors.isEmpty && c.toleratedErrors.isEmpty)
        let v = try #require(c.instances.first)
        #expect(v.virtualAddresses.map(\.vmacDevice) == [nil, "vrrp.51", "vrrp.51", "vrrp1.51"])
        #expect(v.virtualAddresses.map(\.device) == [nil, "eth1", "eth1", "eth2"])
        #expect(v.addressVMACs == [.init(name: "vrrp.51", base: "eth1"), .init(name: "vrrp1.51", base: "eth2")])
        // Control: without it, no macvlan.
        let plain = try Self.parse(lines: "")
        #expect(plain.instances.first?.addressVMACs == [] && plain.instances.first?.virtualAddresses.allSatisfy { $0.vmacDevice == nil } == true)
    }

    @Test func namesGiveWayToTheInstancesOwnAndToPrefixes() throws {
        let both = try Self.parse(lines: " use_vmac\n use_vmac_addr")
        #expect(both.instances.first?.vmacName == "vrrp.51")
        #expect(both.instances.first?.addressVMACs.map(\.name) == ["vrrp1.51", "vrrp2.51"])
        let prefixed = try Self.parse(global: " vmac_prefix pv\n vmac_addr_prefix averyveryverylongprefix\n vmac_prefix again", lines: " use_vmac\n use_vmac_addr", vrid: 200)
        #expect(prefixed.instances.first?.vmacName == "pv.200")
        // Cut to 15 characters, as keepalived's create_vmac_name cuts it.
        #expect(prefixed.instances.first?.addressVMACs.map(\.name) == ["averyveryve.200", "averyveryv1.200"])
        #expect(prefixed.errors.map(\.message) == ["vmac prefix has already been specified - ignoring again"])
        // vmac_prefix alone names use_vmac_addr's too.
        let one = try Self.parse(global: " vmac_prefix pv", lines: " use_vmac_addr")
        #expect(one.instances.first?.addressVMACs.map(\.name) == ["pv.51", "pv1.51"])
    }

    /// keepalived's vrrp_complete_instance: an address of the other family on the
    /// instance's own interface gets a macvlan of that family there (its own VRRP MAC).
    @Test func anIPv6AddressGetsAnIPv6Macvlan() throws {
        let c = try Self.parse(lines: " use_vmac_addr", addresses: "  10.1.0.1/24\n }\n virtual_ipaddress_excluded {\n  fd00::1/64")
        #expect(c.unsupported.isEmpty, "\(c.unsupported)")
        #expect(c.instances.first?.addressVMACs == [KeepalivedConfiguration.AddressVMAC(name: "vrrp.51", base: "eth0", family: AddressFamily.inet6)])
        // Control: the same file without use_vmac_addr leaves it on eth0.
        let plain = try Self.parse(lines: "", addresses: "  10.1.0.1/24\n }\n virtual_ipaddress_excluded {\n  fd00::1/64")
        #expect(plain.unsupported.isEmpty && plain.instances.first?.addressVMACs.isEmpty == true)
    }

    @Test func garpExtraIfServesTheMacvlansWithoutAll() throws {
        let c = try Self.parse(lines: " use_vmac_addr\n garp_extra_if 10")
        #expect(c.instances.first?.garpExtraInterval == 10)
        // Control: without use_vmac_addr, another interface alone needs `all`.
        let plain = try Self.parse(lines: " garp_extra_if 10")
        #expect(plain.instances.first?.garpExtraInterval == 0)
    }
}

/// global_defs' vrrp_notify_priority_changes, fifo_write_vrrp_states_on_reload and
/// log_unknown_vrids as keepalived 2.2.7 reads them; the control is the file without them.
@Suite struct KeepalivedNoticeConfigTests {
    static func parse(_ global: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse("global_defs {\n\(global)\n}\n")
    }

    @Test func optionsAreRead() throws {
        let on = try Self.parse(" vrrp_notify_priority_changes\n fifo_write_vrrp_states_on_reload\n log_unknown_vrids")
        #expect(on.notifyPriorityChanges && on.fifoWriteStatesOnReload && on.logUnknownVRIDs && on.errors.isEmpty && on.unsupported.isEmpty)
        let off = try Self.parse(" vrrp_notify_priority_changes false")
        #expect(!off.notifyPriorityChanges && off.errors.isEmpty)
        let bad = try Self.parse(" vrrp_notify_priority_changes maybe")
        #expect(!bad.notifyPriorityChanges && bad.errors.map(\.message) == ["Invalid value 'maybe' for global vrrp_notify_priority_changes specified"])
        let plain = try Self.parse("")
        #expect(!plain.notifyPriorityChanges && !plain.fifoWriteStatesOnReload && !plain.logUnknownVRIDs)
    }

    @Test func instanceOverGroupOverGlobal() throws {
        let c = try KeepalivedConfigParser.parse("""
        global_defs {
          vrrp_notify_priority_changes
        }
        vrrp_sync_group G {
          group {
            A
            B
          }
          notify_priority_changes false
        }
        vrrp_instance A {
          interface eth0
          virtual_router_id 1
          notify_priority_changes
        }
        vrrp_instance B {
          interface eth0
          virtual_router_id 2
        }
        vrrp_instance C {
          interface eth0
          virtual_router_id 3
          notify_priority_changes nope
        }
        """)
        #expect(c.instances.map(\.notifyPriorityChanges) == [true, false, true])
        #expect(c.errors.map(\.message) == ["(C) Invalid value 'nope' for notify_priority_changes specified"] && c.unsupported.isEmpty)
        // Control: nothing written, nothing on.
        let plain = try KeepalivedConfigParser.parse("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n")
        #expect(plain.instances.first?.notifyPriorityChanges == false)
    }
}
