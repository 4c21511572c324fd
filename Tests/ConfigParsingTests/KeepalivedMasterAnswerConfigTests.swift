import ConfigParsing
import Testing

/// garp_lower_prio_*, lower_prio_no_advert, higher_prio_send_advert and down_timer_adverts
/// (instance and global_defs forms) as keepalived 2.2.7 resolves them; virtual_routes
/// lines and vrrp_script command lines as keepalived reads them.
@Suite struct KeepalivedMasterAnswerConfigTests {
    static func instance(_ name: String, _ extra: String = "") -> String {
        "vrrp_instance \(name) {\n interface eth0\n virtual_router_id 9\n virtual_ipaddress {\n  10.9.9.9/24\n }\n\(extra)}\n"
    }

    @Test func defaultsFollowTheGlobalMasterGARPSettings() throws {
        // The control: nothing written gives keepalived's 5 rounds 5 s apart, answers, no
        // last advert, 3 adverts.
        let plain = try #require(try KeepalivedConfigParser.parse(Self.instance("A")).instances.first)
        #expect(plain.garpLowerPriorityRepeat == 5 && plain.garpLowerPriorityDelay == 5)
        #expect(!plain.lowerPriorityNoAdvert && !plain.higherPriorityAdvert && plain.downTimerAdverts == 3)
        // The global master GARP settings are the lower-priority defaults (read whole, so
        // an instance before global_defs gets them too), not the instance's own.
        let c = try KeepalivedConfigParser.parse(Self.instance("BEFORE", " garp_master_repeat 9\n")
            + "global_defs {\n vrrp_garp_master_delay 2\n vrrp_garp_master_repeat 3\n}\n")
        let v = try #require(c.instances.first)
        #expect(v.garpLowerPriorityRepeat == 3 && v.garpLowerPriorityDelay == 2, "\(v)")
    }

    @Test func instanceWinsOverGlobalWhichWinsOverDefault() throws {
        let c = try KeepalivedConfigParser.parse("""
        global_defs {
         vrrp_garp_lower_prio_delay 7
         vrrp_garp_lower_prio_repeat 4
         vrrp_lower_prio_no_advert
         vrrp_higher_prio_send_advert on
         vrrp_down_timer_adverts 6
        }
        """ + "\n" + Self.instance("GLOBAL") + Self.instance("OWN", """
         garp_lower_prio_delay 0
         garp_lower_prio_repeat 1
         lower_prio_no_advert false
         higher_prio_send_advert no
         down_timer_adverts 10

        """))
        #expect(c.errors.isEmpty && c.unsupported.isEmpty, "\(c.errors) \(c.unsupported)")
        let g = c.instances[0], o = c.instances[1]
        #expect(g.garpLowerPriorityDelay == 7 && g.garpLowerPriorityRepeat == 4 && g.lowerPriorityNoAdvert && g.higherPriorityAdvert
                && g.downTimerAdverts == 6)
        #expect(o.garpLowerPriorityDelay == 0 && o.garpLowerPriorityRepeat == 1 && !o.lowerPriorityNoAdvert && !o.higherPriorityAdvert
                && o.downTimerAdverts == 10)
    }

    @Test func downTimerAdvertsReachesOnlyTheInstancesThatFollow() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("BEFORE") + "global_defs {\n vrrp_down_timer_adverts 4\n}\n" + Self.instance("AFTER"))
        #expect(c.instances.map(\.downTimerAdverts) == [3, 4])
    }

    @Test func badValuesAreKeepalivedsErrorsAtTheirPlace() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("A", """
         down_timer_adverts 0
         down_timer_adverts 101
         garp_lower_prio_repeat -1
         garp_lower_prio_delay 1.5
         lower_prio_no_advert maybe

        """))
        #expect(c.errors.map(\.message) == [
            "(A): Invalid down_timer_adverts [1:100] '0'", "(A): Invalid down_timer_adverts [1:100] '101'",
            "(A): Invalid garp_lower_prio_repeat '-1'", "(A): garp_lower_prio_delay '1.5' invalid - ignoring",
            "(A) invalid lower_prio_no_advert maybe specified",
        ])
        #expect(c.errors.map(\.location.line) == [7, 8, 9, 10, 11])
        let v = try #require(c.instances.first)
        #expect(v.downTimerAdverts == 3 && v.garpLowerPriorityRepeat == 5 && v.garpLowerPriorityDelay == 5 && !v.lowerPriorityNoAdvert)
    }

    @Test func strictModeResetsWhatBreaksTheRFC() throws {
        let written = """
         accept
         version 3
         garp_lower_prio_repeat 2
         garp_lower_prio_delay 3
         lower_prio_no_advert off
         higher_prio_send_advert
         down_timer_adverts 5

        """
        let strict = try KeepalivedConfigParser.parse("global_defs {\n vrrp_strict\n}\n" + Self.instance("A", written))
        let s = try #require(strict.instances.first)
        #expect(s.garpLowerPriorityRepeat == 0 && s.garpLowerPriorityDelay == 0 && s.lowerPriorityNoAdvert && !s.higherPriorityAdvert
                && s.downTimerAdverts == 3)
        #expect(strict.errors.map(\.message) == [
            "(A) down_timer_adverts is incompatible with strict mode - resetting",
            "(A) Strict mode requires no repeat garps. resetting",
            "(A) Strict mode requires no repeat garp delay. resetting",
            "(A) Strict mode requires no lower priority advert. resetting",
            "(A) strict mode requires higher_prio_send_advert to be clear. resetting",
        ])
        // Unwritten, strict mode's own defaults apply, silently.
        let quiet = try KeepalivedConfigParser.parse("global_defs {\n vrrp_strict\n}\n" + Self.instance("A", " accept\n version 3\n"))
        let q = try #require(quiet.instances.first)
        #expect(q.garpLowerPriorityRepeat == 0 && q.garpLowerPriorityDelay == 0 && q.lowerPriorityNoAdvert && quiet.errors.isEmpty)
        // The control: the same lines outside strict mode stand as written.
        let plain = try #require(try KeepalivedConfigParser.parse(Self.instance("A", written)).instances.first)
        #expect(plain.garpLowerPriorityRepeat == 2 && plain.garpLowerPriorityDelay == 3 && !plain.lowerPriorityNoAdvert
                && plain.higherPriorityAdvert && plain.downTimerAdverts == 5)
    }

    @Test func badVirtualRouteLinesAreReportedWhereWritten() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("A", """
         virtual_routes {
          10.8.0.0/16 via 10.9.9.1
          10.9.0.0/33 via 10.9.9.1
          10.7.0.0/16 via notanaddr
          10.6.0.0/16 frobnicate 3
         }

        """))
        #expect(c.errors.map(\.location.line) == [9, 10, 11], "\(c.errors)")
        #expect(c.errors.allSatisfy { $0.message.hasPrefix("(A) virtual_routes: ") })
        // The good line stays; the control: a file with only it has no error.
        #expect(c.instances.first?.virtualRoutes == [["10.8.0.0/16", "via", "10.9.9.1"]])
        let good = try KeepalivedConfigParser.parse(Self.instance("A", " virtual_routes {\n  10.8.0.0/16 via 10.9.9.1\n }\n"))
        #expect(good.errors.isEmpty)
    }

    @Test func aScriptIsItsFirstWordSplitByKeepalivedsRules() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_script Q {
         script "/bin/echo 'a b' c\\ d"
        }
        vrrp_script U {
         script /bin/echo x y
        }
        """)
        // The first reading takes the backslash: `c` and `d` are two words when it runs.
        #expect(c.scripts.map(\.command) == ["/bin/echo 'a b' c d", "/bin/echo"])
        #expect(ScriptCommand.argv(c.scripts[0].command!) == ["/bin/echo", "a b", "c", "d"])
        // Words after an unquoted command are dropped by keepalived: said, not swallowed.
        #expect(c.warnings.count == 1 && c.warnings[0].location.line == 5, "\(c.warnings)")
    }

    @Test func notifyCommandsAreReadTwiceToo() throws {
        let c = try KeepalivedConfigParser.parse(Self.instance("A", " notify_master \"/bin/x c\\\\ d e\\ f\"\n"))
        let command = try #require(c.instances.first?.notify.master)
        #expect(command == "/bin/x c\\ d e f")
        #expect(ScriptCommand.argv(command) == ["/bin/x", "c d", "e", "f"])
    }

    @Test func commandLinesSplitAsKeepalivedSplitsThem() {
        // A backslash escapes inside single quotes too, and names control characters.
        #expect(ScriptCommand.argv(#"/x 'a\'b' "c\"d" e\tf \x41\101 \cA"#) == ["/x", "a'b", "c\"d", "e\tf", "AA", "\u{01}"])
        #expect(ScriptCommand.argv("/x $HOME ; y && z") == ["/x", "$HOME", ";", "y", "&&", "z"])
        // Unusable lines: keepalived has no command at all.
        #expect(ScriptCommand.argv("/x 'open") == [])
        #expect(ScriptCommand.argv("/x end\\") == [])
    }
}
