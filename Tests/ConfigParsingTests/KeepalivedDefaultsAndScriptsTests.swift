import ConfigParsing
import Foundation
import TestSupport
import Testing

/// global_defs' VRRP defaults as keepalived applies them, and scripts looked at as
/// keepalived looks at them before running anything.
@Suite struct KeepalivedDefaultsAndScriptsTests {
    static func instance(_ name: String, _ extra: String = "") -> String {
        "vrrp_instance \(name) {\n interface eth0\n virtual_router_id 9\n\(extra)}\n"
    }

    @Test func vrrpVersionReachesEveryInstanceThatSetsNone() throws {
        // Wherever global_defs stands: keepalived applies it once every instance is read.
        let c = try KeepalivedConfigParser.parse(Self.instance("BEFORE") + "global_defs {\n vrrp_version 3\n}\n"
            + Self.instance("OWN", " version 2\n") + Self.instance("V6", " virtual_ipaddress {\n  fd00::1/64\n }\n"))
        #expect(c.instances.map(\.effectiveVersion) == [3, 2, 3])
        // The control: without the global line the default is 2.
        #expect(try KeepalivedConfigParser.parse(Self.instance("A")).instances.first?.effectiveVersion == 2)
    }

    @Test func garpDefaultsReachTheInstancesThatFollow() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("BEFORE") + """
        global_defs {
         vrrp_garp_master_delay 2
         vrrp_garp_master_repeat 3
         vrrp_garp_master_refresh 60
         vrrp_garp_master_refresh_repeat 4
        }
        """ + "\n" + Self.instance("AFTER") + Self.instance("OWN", " garp_master_delay 7\n"))
        #expect(c.errors.isEmpty && c.unsupported.isEmpty, "\(c.errors) \(c.unsupported)")
        let before = c.instances[0], after = c.instances[1], own = c.instances[2]
        #expect(before.garpMasterDelay == 5 && before.garpMasterRepeat == 5 && before.garpMasterRefresh == 0 && before.garpMasterRefreshRepeat == 1)
        #expect(after.garpMasterDelay == 2 && after.garpMasterRepeat == 3 && after.garpMasterRefresh == 60 && after.garpMasterRefreshRepeat == 4)
        #expect(own.garpMasterDelay == 7 && own.garpMasterRepeat == 3)
    }

    @Test func scriptsAreFoundOrDisabledAsKeepalivedDoes() throws {
        let dir = NSTemporaryDirectory() + "tdu-scripts-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runnable = dir + "/run.sh", plain = dir + "/plain.sh"
        _ = FileManager.default.createFile(atPath: runnable, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        _ = FileManager.default.createFile(atPath: plain, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644])
        let me = (uid: getuid(), gid: getgid())
        #expect(ScriptSecurity.check("\(runnable) arg", uid: me.uid, gid: me.gid).verdict == .runnable)
        #expect(ScriptSecurity.check("\(dir)/absent.sh", uid: me.uid, gid: me.gid).verdict == .missing)
        #expect(ScriptSecurity.check("tdu-no-such-program x", uid: me.uid, gid: me.gid).verdict == .missing)
        #expect(ScriptSecurity.check("run.sh x", uid: me.uid, gid: me.gid, path: "/nonexistent:" + dir).verdict == .runnable)
        #expect(ScriptSecurity.check("</dev/tcp/127.0.0.1/80", uid: me.uid, gid: me.gid).verdict == .fileTest)
        if me.uid != 0 {
            #expect(ScriptSecurity.check(plain, uid: me.uid, gid: me.gid).verdict == .notExecutable)
        } else {
            // Root may execute a file with any execute bit, and none here.
            #expect(ScriptSecurity.check(plain, uid: 0, gid: 0).verdict == .notExecutable)
        }
    }

    @Test(.enabled(if: Shell.isRoot, "needs root to own the path")) func aPathOthersCanWriteIsUnsafeForRoot() throws {
        let dir = NSTemporaryDirectory() + "tdu-unsafe-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/s.sh"
        _ = FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        chmod(dir, 0o755)
        #expect(ScriptSecurity.check(script, uid: 0, gid: 0).insecure == false)
        chmod(dir, 0o777)
        #expect(ScriptSecurity.check(script, uid: 0, gid: 0).insecure == true)
        // enable_script_security disables it; without, it runs and is named.
        let text = "global_defs {\n enable_script_security\n}\n" + Self.instance("A", " notify_master \(script)\n")
        let guarded = ScriptVetting(try KeepalivedConfigParser.parse(text), user: (0, 0))
        #expect(guarded.vetted.instances.first?.notify.master == nil && guarded.securityViolation == nil)
        let open = ScriptVetting(try KeepalivedConfigParser.parse(Self.instance("A", " notify_master \(script)\n")), user: (0, 0))
        #expect(open.vetted.instances.first?.notify.master == script)
        #expect(open.securityViolation?.hasSuffix("There are insecure scripts.") == true)
    }
}

/// Strict mode's repairs, as keepalived 2.2.7 makes them, and its control (the same
/// instance without strict mode is left as written).
@Suite struct KeepalivedStrictModeTests {
    static let text = """
    vrrp_instance A {
        interface eth0
        virtual_router_id 9
        state MASTER
        priority 100
        accept
        preempt_delay 5
        authentication {
            auth_type PASS
            auth_pass x
        }
        virtual_ipaddress {
            10.234.9.9/24
        }
    }
    """

    @Test func strictModeRepairsWhatBreaksTheRFC() throws {
        let strict = try KeepalivedConfigParser.parse("global_defs {\n vrrp_strict\n}\n" + Self.text)
        let v = try #require(strict.instances.first)
        #expect(v.initialState == "BACKUP" && v.preemptDelay == 0 && v.authenticationType == nil && v.lowerPriorityNoAdvert)
        #expect(strict.errors.map(\.message) == ["(A) State MASTER must match being address owner",
                                                 "(A) Strict mode does not support authentication. Ignoring.",
                                                 "(A) preempt_delay is incompatible with strict mode - resetting",
                                                 "(A) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"])
        // v2 non-owner: accept is reset, so a master drops traffic to its addresses.
        #expect(strict.unsupported.isEmpty && v.dropsTrafficAsMaster, "\(strict.unsupported)")
        let plain = try KeepalivedConfigParser.parse(Self.text)
        let p = try #require(plain.instances.first)
        // Left as written, but for keepalived's own clearing of a MASTER's preempt_delay.
        #expect(p.initialState == "MASTER" && p.preemptDelay == 0 && p.authenticationType == "PASS" && !p.lowerPriorityNoAdvert)
        #expect(plain.toleratedErrors.map(\.message) == ["(A) Warning - preempt delay will not work with initial state MASTER - clearing"])
        #expect(plain.unsupported.isEmpty && !p.dropsTrafficAsMaster)
    }
}

/// Non-accept mode as keepalived 2.2.7 decides it (vrrp.c: an owner always accepts; the
/// default is accept outside strict mode) and the nftables global_defs it reads.
@Suite struct KeepalivedNoAcceptTests {
    static func instance(_ lines: String, family6: Bool = false) -> String {
        "vrrp_instance A {\n interface eth0\n virtual_router_id 9\n \(lines)\n virtual_ipaddress {\n  "
            + (family6 ? "fe80::9/64" : "10.234.9.9/24") + "\n }\n}\n"
    }

    @Test func noAcceptDropsOnlyForANonOwner() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("priority 100\n no_accept"))
        #expect(c.unsupported.isEmpty && c.instances.first?.dropsTrafficAsMaster == true, "\(c.unsupported)")
        // The controls: the owner and the default (accept) never drop.
        let owner = try KeepalivedConfigParser.parse(Self.instance("priority 255\n no_accept"))
        #expect(owner.instances.first?.dropsTrafficAsMaster == false)
        let plain = try KeepalivedConfigParser.parse(Self.instance("priority 100"))
        #expect(plain.instances.first?.dropsTrafficAsMaster == false)
    }

    @Test func ipv6NonAcceptIsActedOn() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("priority 100\n version 3\n no_accept", family6: true))
        #expect(c.unsupported.isEmpty && c.instances.first?.dropsTrafficAsMaster == true, "\(c.unsupported)")
        // The control: the same IPv6 instance in accept mode drops nothing.
        let ok = try KeepalivedConfigParser.parse(Self.instance("priority 100\n version 3", family6: true))
        #expect(ok.unsupported.isEmpty && ok.instances.first?.dropsTrafficAsMaster == false)
    }

    @Test func nftablesGlobalsAsKeepalivedReadsThem() throws {
        let c = try KeepalivedConfigParser.parse("global_defs {\n nftables_priority 7\n nftables vk\n nftables_counters\n}\n")
        // `nftables` resets a priority given before it, as keepalived's handler does.
        #expect(c.firewall.table == "vk" && c.firewall.chainPriority == -1 && c.firewall.counters && c.firewall.configured)
        let after = try KeepalivedConfigParser.parse("global_defs {\n nftables\n nftables_priority -5\n nftables_counters x\n}\n")
        #expect(after.firewall.table == "keepalived" && after.firewall.chainPriority == -5)
        let legacy = try KeepalivedConfigParser.parse("global_defs {\n vrrp_iptables\n}\n")
        #expect(legacy.firewall.configured && legacy.toleratedErrors.count == 1)
        let odd = try KeepalivedConfigParser.parse("global_defs {\n nftables \"a b\"\n}\n")
        #expect(odd.unsupported.count == 1 && odd.unsupported[0].location.line == 2, "\(odd.unsupported)")
        let ifindex = try KeepalivedConfigParser.parse("global_defs {\n nftables_ifindex\n}\n")
        #expect(ifindex.unsupported.isEmpty && ifindex.firewall.linkLocalByIndex && !after.firewall.linkLocalByIndex)
    }
}

/// use_vmac as keepalived 2.2.7 reads it: the default name vrrp.VRID, a name of one's own,
/// and what Tandem does not build refused where it is written.
@Suite struct KeepalivedVMACParsingTests {
    static func instance(_ lines: String, vip: String = "10.234.9.9/24") -> String {
        "vrrp_instance A {\n interface eth0\n virtual_router_id 9\n \(lines)\n virtual_ipaddress {\n  \(vip)\n }\n}\n"
    }

    @Test func namesAndMAC() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("use_vmac\n vmac_xmit_base"))
        let v = try #require(c.instances.first)
        #expect(c.unsupported.isEmpty && v.vmacName == "vrrp.9" && v.vmacTransmitBase && v.vmacAddress == [0, 0, 0x5e, 0, 1, 9])
        let named = try KeepalivedConfigParser.parse(Self.instance("use_vmac vx9"))
        #expect(named.instances.first?.vmacName == "vx9")
        // The control: no use_vmac, no macvlan.
        #expect(try KeepalivedConfigParser.parse(Self.instance("priority 100")).instances.first?.vmacName == nil)
    }

    /// use_vmac's MAC as keepalived 2.2.7 takes it (seen beside it: KeepalivedVMACNamingTests):
    /// six octets, or five the VRID completes; a multicast, an RFC 5798 or an unreadable one
    /// is keepalived's error and the VRRP MAC is used; a second MAC or name is said and dropped.
    @Test func aMACOfItsOwn() throws {
        func parsed(_ line: String) throws -> (KeepalivedConfiguration, KeepalivedConfiguration.Instance) {
            let c = try KeepalivedConfigParser.parse(Self.instance(line))
            return (c, try #require(c.instances.first))
        }
        let (six, v6) = try parsed("use_vmac vx9 02:00:00:00:00:07")
        #expect(six.unsupported.isEmpty && six.toleratedErrors.isEmpty && v6.vmacName == "vx9" && v6.vmacAddress == [2, 0, 0, 0, 0, 7], "\(six.toleratedErrors)")
        let (_, v5) = try parsed("use_vmac 2:a0:0:0:1")
        #expect(v5.vmacAddress == [2, 0xa0, 0, 0, 1, 9] && v5.vmacName == "vrrp.9")
        let refusals: [(String, String)] = [
            ("03:00:00:00:00:01", "VMAC MAC address is multicast 03:00:00:00:00:01 - ignoring"),
            ("00:00:5e:00:02:07", "VMAC MAC address not allowed to be RFC5798 address (00:00:5e:00:02:07) - ignoring"),
            ("zz:1", "VMAC invalid MAC address zz:1"),
            ("02:00:00:00:00:00:01", "VMAC invalid MAC address 02:00:00:00:00:00:01"),
        ]
        for (word, message) in refusals {
            let (c, v) = try parsed("use_vmac \(word)")
            #expect(c.toleratedErrors.map(\.message) == [message] && c.toleratedErrors.first?.location.column == 11, "\(c.toleratedErrors)")
            // The control of each: the VRRP MAC.
            #expect(v.vmacAddress == [0, 0, 0x5e, 0, 1, 9] && c.unsupported.isEmpty)
        }
        let (twice, vt) = try parsed("use_vmac 02:00:00:00:00:07 vx8 02:00:00:00:00:08 vx9")
        #expect(twice.toleratedErrors.map(\.message) == ["(A) use_vmac: MAC address already specified - ignoring 02:00:00:00:00:08",
                                                "VMAC interface name already specified"], "\(twice.toleratedErrors)")
        #expect(vt.vmacAddress == [2, 0, 0, 0, 0, 7] && vt.vmacName == "vx8")
        let (badName, vb) = try parsed("use_vmac a/b")
        #expect(badName.toleratedErrors.map(\.message) == ["VMAC interface name 'a/b' too long or invalid characters - ignoring"] && vb.vmacName == "vrrp.9")
    }

    @Test func whatIsNotBuiltIsRefusedWhereWritten() throws {
        // An IPv6 instance's VMAC is built (its MAC 00:00:5e:00:02:VRID).
        let v6 = try KeepalivedConfigParser.parse(Self.instance("version 3\n use_vmac", vip: "fe80::9/64"))
        #expect(v6.unsupported.isEmpty && v6.instances.first?.vmacAddress == [0, 0, 0x5e, 0, 2, 9], "\(v6.unsupported)")
        // With unicast peers keepalived sends from the base interface (vmac_xmit_base) and says so.
        let unicast = try KeepalivedConfigParser.parse(Self.instance("version 3\n use_vmac\n unicast_peer {\n  fe80::8\n }", vip: "fe80::9/64"))
        #expect(unicast.unsupported.isEmpty && unicast.instances.first?.vmacTransmitBase == true, "\(unicast.unsupported)")
        #expect(unicast.toleratedErrors.map(\.message) == ["(A) unicast with use_vmac requires vmac_xmit_base - setting"], "\(unicast.toleratedErrors)")
        let multicast = try KeepalivedConfigParser.parse(Self.instance("version 3\n use_vmac", vip: "fe80::9/64"))
        #expect(multicast.instances.first?.vmacTransmitBase == false)
        let strict = try KeepalivedConfigParser.parse(Self.instance("strict_mode\n version 3\n accept\n use_vmac\n vmac_xmit_base"))
        #expect(strict.errors.map(\.message).contains("(A) xmit_base is incompatible with strict mode - resetting")
                && strict.instances.first?.vmacTransmitBase == false)
    }
}
