import ConfigParsing
import Testing

/// The tracking keywords (spec §2.10, §3.1): vrrp_script options, weights with
/// `reverse`, group-level tracking and dont_track_primary.
@Suite struct KeepalivedTrackingConfigTests {
    static let text = """
    vrrp_script chk {
        script "/usr/bin/test -f /run/ok"
        interval 0.5
        timeout 2
        weight -20 reverse
        rise 3
        fall 2
        init_fail
    }
    vrrp_script bad_weight {
        script /bin/true
        weight 400
    }
    vrrp_sync_group G1 {
        group {
            VI_1
        }
        track_interface {
            eth2
        }
        track_script {
            chk weight 10
        }
        sync_group_tracking_weight
    }
    vrrp_instance VI_1 {
        interface eth0
        virtual_router_id 5
        dont_track_primary
        track_interface {
            eth1 weight -30 reverse
        }
        track_script {
            chk
        }
        virtual_ipaddress {
            10.0.0.5
        }
    }
    """

    @Test func scriptOptionsAndWeightsAreRead() throws {
        let c = try KeepalivedConfigParser.parse(Self.text)
        let chk = try #require(c.scripts.first { $0.name == "chk" })
        #expect(chk.command == "/usr/bin/test -f /run/ok" && chk.interval == 0.5 && chk.timeout == 2)
        #expect(chk.weight == -20 && chk.reverse && chk.rise == 3 && chk.fall == 2 && chk.initFail)
        // Out of range: an error naming the place, and the weight dropped as keepalived does.
        #expect(c.scripts.first { $0.name == "bad_weight" }?.weight == 0)
        #expect(c.errors.contains { $0.description.contains("weight must be in -253..253") }, "\(c.errors)")
        let i = try #require(c.instances.first)
        #expect(i.dontTrackPrimary)
        #expect(i.trackInterfaces == [.init(name: "eth1", weight: -30, reverse: true)])
        #expect(i.trackScripts == [.init(name: "chk")])
        let g = try #require(c.syncGroups.first)
        #expect(g.trackInterfaces == [.init(name: "eth2")] && g.trackScripts == [.init(name: "chk", weight: 10)] && g.trackingWeight)
    }
}

/// Notify commands become argv the way keepalived splits them.
@Suite struct ScriptCommandTests {
    @Test func quotesAndEscapesGroupWords() {
        #expect(ScriptCommand.argv("/bin/echo 'a b' \"c#d\" e!f") == ["/bin/echo", "a b", "c#d", "e!f"])
        #expect(ScriptCommand.argv("  /x.sh   primary ") == ["/x.sh", "primary"])
        #expect(ScriptCommand.argv("/x.sh a\\ b ''") == ["/x.sh", "a b", ""])
        #expect(ScriptCommand.argv("") == [])
    }

    @Test func unquotedNotifyTakesTheSecondWordAsTheUser() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 5
            notify_backup /x.sh backup
            notify_master "/x.sh primary"
        }
        """)
        let n = try #require(c.instances.first?.notify)
        #expect(n.backup == "/x.sh" && n.master == "/x.sh primary")
        // keepalived would run it as user `backup'; Tandem refuses that (the quoted one is fine).
        #expect(c.unsupported.count == 1, "\(c.unsupported)")
        #expect(c.unsupported.first?.description.contains("with a user to run the script as (`backup'") == true, "\(c.unsupported)")
        #expect(c.unsupported.first?.location.line == 4)
    }
}
