import ConfigParsing
import IPAddressing
import Foundation
import TestSupport
import Testing

/// global_defs' vrrp_garp_interval, vrrp_gna_interval and vrrp_min_garp, and the
/// instance's notify_master_rx_lower_pri, read as keepalived 2.2.7 reads them (its
/// messages for bad values were taken from `keepalived -t`). Each test has its control:
/// the same file without the keyword.
@Suite struct KeepalivedGARPPacingConfigTests {
    static func file(global: String, instance: String = "") -> String {
        "global_defs {\n\(global)\n}\nvrrp_instance V {\n interface eth0\n virtual_router_id 9\n\(instance)\n}\n"
    }

    @Test func intervalsAreReadInMicroseconds() throws {
        let c = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_garp_interval 0.25\n vrrp_gna_interval .000001"))
        #expect(c.errors.isEmpty && c.unsupported.isEmpty && c.warnings.isEmpty, "\(c.errors) \(c.unsupported) \(c.warnings)")
        #expect(c.garpInterval == 250_000 && c.gnaInterval == 1)
        // Control: without them, no spacing.
        let plain = try KeepalivedConfigParser.parse(Self.file(global: ""))
        #expect(plain.garpInterval == 0 && plain.gnaInterval == 0)
    }

    @Test func badIntervalsAreKeepalivedsErrors() throws {
        // 0 is below keepalived's 1 µs floor: an error, and no spacing.
        let zero = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_garp_interval 0"))
        #expect(zero.errors.map(\.message) == ["number '0' outside range [0.000001, 4294.967295]", "vrrp_garp_interval '0' is invalid"])
        #expect(zero.garpInterval == 0)
        // More than six decimals: reported, rounded, and used.
        let fine = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_gna_interval 0.0000015"))
        #expect(fine.errors.map(\.message) == ["number '0.0000015' has too many decimal places"])
        #expect(fine.gnaInterval == 2)
        let junk = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_gna_interval -1"))
        #expect(junk.errors.map(\.message) == ["negative number '-1'", "vrrp_gna_interval '-1' is invalid"])
        // A second or more is only remarked on.
        let large = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_garp_interval 2"))
        #expect(large.errors.isEmpty && large.garpInterval == 2_000_000)
        #expect(large.warnings.map(\.message) == ["The vrrp_garp_interval is very large - 2 seconds"])
    }

    @Test func minGarpMovesOnlyWhatStillHasItsDefault() throws {
        let c = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_min_garp"))
        #expect(c.errors.isEmpty, "\(c.errors)")
        let v = try #require(c.instances.first)
        #expect(v.garpMasterRepeat == 1 && v.garpMasterDelay == 0 && v.garpMasterRefresh == 0 && v.garpMasterRefreshRepeat == 0)
        // The lower-priority answers follow the global repeat and delay.
        #expect(v.garpLowerPriorityRepeat == 1 && v.garpLowerPriorityDelay == 0)
        // A value set to something else, before or after, wins; `false` does nothing.
        let set = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_garp_master_repeat 3\n vrrp_min_garp true\n vrrp_garp_master_delay 2"))
        #expect(set.instances.first?.garpMasterRepeat == 3 && set.instances.first?.garpMasterDelay == 2)
        // Control: keepalived's defaults without it (and with it off).
        for text in ["", " vrrp_min_garp false"] {
            let plain = try #require(try KeepalivedConfigParser.parse(Self.file(global: text)).instances.first)
            #expect(plain.garpMasterRepeat == 5 && plain.garpMasterDelay == 5 && plain.garpMasterRefreshRepeat == 1)
            #expect(plain.garpLowerPriorityRepeat == 5 && plain.garpLowerPriorityDelay == 5)
        }
        let bad = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_min_garp maybe"))
        #expect(bad.errors.map(\.message) == ["Invalid value for vrrp_min_garp specified"])
        #expect(bad.instances.first?.garpMasterRepeat == 5)
    }

    @Test func notifyMasterRxLowerPriIsAnInstanceNotifyCommand() throws {
        let c = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " notify_master_rx_lower_pri \"/bin/echo lower\" nobody\n"
            + " notify_master_rx_lower_pri /bin/true"))
        let v = try #require(c.instances.first)
        #expect(v.notify.masterRxLowerPriority == "/bin/echo lower")
        #expect(v.notify.runAs[.masterRxLowerPriority] == (try ScriptUser.resolve("nobody", group: nil).get()))
        // keepalived keeps the first and reports the second.
        #expect(c.errors.map(\.message) == ["(V) notify_master_rx_lower_pri script already specified - ignoring /bin/true"])
        #expect(c.unsupported.isEmpty)
        // It is an instance's keyword: a sync group does not know it, as keepalived does not.
        let group = try KeepalivedConfigParser.parse(Self.file(global: "") + "vrrp_sync_group G {\n group {\n  V\n }\n notify_master_rx_lower_pri /bin/true\n}\n")
        #expect(group.errors.map(\.message) == ["Unknown keyword 'notify_master_rx_lower_pri'"])
        // Control: without it, nothing to run.
        #expect(try KeepalivedConfigParser.parse(Self.file(global: "")).instances.first?.notify.masterRxLowerPriority == nil)
    }

    @Test func notifyMasterRxLowerPriIsVettedLikeTheOtherScripts() throws {
        let c = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " notify_master_rx_lower_pri /nonexistent/tkc-lower.sh"))
        #expect(c.instances.first?.notify.masterRxLowerPriority == "/nonexistent/tkc-lower.sh")
        // A missing script is disabled with keepalived's line; a found one counts towards the
        // script-security violation, as every notify script does.
        let missing = ScriptVetting(c)
        #expect(missing.vetted.instances.first?.notify.masterRxLowerPriority == nil)
        #expect(missing.securityViolation == nil)
        let found = ScriptVetting(try KeepalivedConfigParser.parse(Self.file(global: "", instance: " notify_master_rx_lower_pri /bin/true")))
        #expect(found.vetted.instances.first?.notify.masterRxLowerPriority == "/bin/true")
        #expect(found.securityViolation != nil)
    }

    /// garp_extra_if: the instance's value or the global one (with its `all`), kept only with
    /// `all` and an address on another interface, as keepalived keeps it when it has no
    /// per-address VMACs; the deprecated spellings are keepalived's errors and still read.
    @Test func garpExtraIfNeedsAllAndAnotherInterface() throws {
        let other = " virtual_ipaddress {\n  10.1.1.1/24\n  10.2.2.2/24 dev eth1\n }\n"
        let own = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " garp_extra_if all 7\n" + other))
        #expect(own.errors.isEmpty && own.unsupported.isEmpty, "\(own.errors) \(own.unsupported)")
        #expect(own.instances.first?.garpExtraInterval == 7)
        let global = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_garp_extra_if 4 all", instance: other))
        #expect(global.instances.first?.garpExtraInterval == 4)
        // Controls: without `all`, or without another interface, nothing is sent.
        let noAll = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " garp_extra_if 7\n" + other))
        #expect(noAll.errors.isEmpty && noAll.instances.first?.garpExtraInterval == 0)
        let noOther = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " garp_extra_if all 7\n virtual_ipaddress {\n  10.1.1.1/24 dev eth0\n }\n"))
        #expect(noOther.instances.first?.garpExtraInterval == 0)
        // The instance's own value, even 0, wins over the global one.
        let off = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_garp_extra_if all 4", instance: " garp_extra_if 0\n" + other))
        #expect(off.instances.first?.garpExtraInterval == 0)
        let old = try KeepalivedConfigParser.parse(Self.file(global: " vrrp_vmac_garp_intvl 5 all", instance: " vmac_garp_intvl all 3\n" + other))
        #expect(old.errors.map(\.message) == ["Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"",
                                              "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\""])
        #expect(old.instances.first?.garpExtraInterval == 3)
        let bare = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " garp_extra_if all\n" + other))
        #expect(bare.errors.map(\.message) == ["(V): garp_extra_if specified without time - ignoring"])
    }

    /// Address options keepalived 2.2.7 knows are acted on, never "unknown": an IPv6
    /// address's own use_vmac gets an IPv6 macvlan of its interface (the control: `dev`
    /// alone leaves it on the interface).
    @Test func addressOptionsKeepalivedKnowsAreNotUnknown() throws {
        let c = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " virtual_ipaddress {\n  fd00::1/64 dev eth1 use_vmac\n }"),
                                                 file: "/k.conf", links: { [] })
        #expect(c.unsupported.isEmpty, "\(c.unsupported)")
        #expect(c.instances.first?.addressVMACs == [KeepalivedConfiguration.AddressVMAC(name: "vrrp.9", base: "eth1", family: AddressFamily.inet6)])
        #expect(c.errors.filter { $0.message.contains("unknown") }.isEmpty, "\(c.errors)")
        let plain = try KeepalivedConfigParser.parse(Self.file(global: "", instance: " virtual_ipaddress {\n  10.2.2.2/24 dev eth1\n }"))
        #expect(plain.unsupported.isEmpty && plain.instances.first?.virtualAddresses.first?.device == "eth1")
    }
}
