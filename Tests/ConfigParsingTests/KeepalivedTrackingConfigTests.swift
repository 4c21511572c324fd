import Foundation
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
            notify_fault /x.sh tdu-no-such-user
        }
        """)
        let n = try #require(c.instances.first?.notify)
        #expect(n.backup == "/x.sh" && n.master == "/x.sh primary")
        // keepalived runs it as user `backup' (Debian has one), and so does Tandem now.
        let backup = AccountLookup.user(named: "backup").map { ScriptUser(uid: $0.uid, gid: $0.gid) }
        #expect(n.runAs[.backup] == backup && backup != nil)
        // The control: the quoted command names no user and gets the default (no
        // keepalived_script user on the test host: the daemon's own).
        if AccountLookup.user(named: "keepalived_script") == nil { #expect(n.runAs[.master] == ScriptUser.ours) }
        // A user that does not exist leaves the command out with keepalived's log line,
        // not a configuration error.
        #expect(n.fault == nil && c.errors.isEmpty && c.unsupported.isEmpty, "\(c.errors) \(c.unsupported)")
        #expect(c.warnings.contains { $0.message == "Invalid user/group for notify script /x.sh - ignoring" && $0.location.line == 6 }, "\(c.warnings)")
    }

    @Test func notifyFifoScriptTakesAUserToo() throws {
        let c = try KeepalivedConfigParser.parse("global_defs {\n notify_fifo /run/f\n notify_fifo_script /x.sh nobody nogroup\n}\n")
        let nobody = AccountLookup.user(named: "nobody")?.uid, nogroup = AccountLookup.group(named: "nogroup")
        #expect(c.notifyFifoScript == "/x.sh" && c.notifyFifoScriptUser?.uid == nobody && c.notifyFifoScriptUser?.gid == nogroup)
        // The control: without the words it gets the default (the daemon's own here).
        let plain = try KeepalivedConfigParser.parse("global_defs {\n notify_fifo /run/f\n notify_fifo_script /x.sh\n}\n")
        if AccountLookup.user(named: "keepalived_script") == nil { #expect(plain.notifyFifoScriptUser == ScriptUser.ours) }
    }
}

/// track_file blocks and their use in instances and sync groups, with keepalived's
/// errors for what it ignores.
@Suite struct KeepalivedTrackFileConfigTests {
    @Test func trackFileDeclarationsAndUses() throws {
        let c = try KeepalivedConfigParser.parse("""
        track_file tf1 {
            file /run/tf1
            weight -3 reverse
            init_file 7 overwrite
        }
        vrrp_track_file tf2 {
            file /run/tf2
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 5
            track_file {
                tf1
                tf2 weight 5 reverse
                tf1
                nosuch
            }
        }
        vrrp_sync_group G {
            group {
                VI_1
            }
            track_file {
                tf2 weight 2
            }
        }
        """)
        #expect(c.trackFiles.map(\.name) == ["tf1", "tf2"])
        let f = c.trackFiles[0]
        #expect(f.path == "/run/tf1" && f.weight == -3 && f.reverse && f.initValue == 7 && f.overwrite)
        #expect(c.trackFiles[1].weight == 1 && c.trackFiles[1].initValue == nil)
        #expect(c.instances[0].trackFiles == [.init(name: "tf1", weight: -3, reverse: true), .init(name: "tf2", weight: 5, reverse: true)])
        #expect(c.syncGroups[0].trackFiles == [.init(name: "tf2", weight: 2, reverse: false)])
        #expect(c.errors.map(\.message) == ["(VI_1) duplicate track_file tf1 - ignoring", "(VI_1) track file nosuch not found, ignoring..."])
        #expect(c.warnings.contains { $0.message.contains("\"vrrp_track_file\" is deprecated") })
        #expect(c.unsupported.isEmpty && c.trackedFileNames == ["tf1", "tf2"])
    }

    @Test func badTrackFileValuesAreKeepalivedsErrors() throws {
        let c = try KeepalivedConfigParser.parse("""
        track_file nofile {
            weight 2
        }
        track_file tf {
            file /run/tf
            weight 300
            init_file 12x
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 5
            track_file {
                tf weight
                tf weight 2 sideways
            }
        }
        """)
        #expect(c.trackFiles.map(\.name) == ["tf"] && c.trackFiles[0].weight == 1)
        #expect(c.errors.map(\.message) == [
            "No file set for track_file nofile - ignoring",
            "Weight (300) for track_file tf must be between [-254..254] inclusive. Ignoring...",
            "Track file tf init value 12x is invalid",
            "(VI_1) weight without value specified for track file tf - ignoring",
            "(VI_1) unknown track file tf weight option sideways - ignoring",
        ])
        #expect(c.instances[0].trackFiles.isEmpty)
    }
}

/// vrrp_track_process blocks and their use, with keepalived's errors for what it ignores.
@Suite struct KeepalivedTrackProcessConfigTests {
    @Test func trackProcessDeclarationsAndUses() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_track_process nginx {
            process nginx
            weight -20 reverse
            quorum 2
            quorum_max 4
            delay 1.5
            fork_delay 0.5
        }
        vrrp_track_process worker {
            process /usr/bin/python3 worker.py --queue
            param_match partial
        }
        vrrp_track_process none {
            process forbidden
            quorum_max 0
        }
        vrrp_instance VI_1 {
            interface eth0
            virtual_router_id 5
            track_process {
                nginx
                worker weight 10
                ghost
            }
        }
        """)
        #expect(c.errors.map(\.message) == ["(VI_1) track process ghost not found, ignoring..."])
        let n = c.trackProcesses[0], w = c.trackProcesses[1], z = c.trackProcesses[2]
        #expect(n.process == "nginx" && n.weight == -20 && n.reverse && n.quorum == 2 && n.quorumMax == 4 && !n.fullCommand)
        #expect(n.terminateDelay == 1.5 && n.forkDelay == 0.5)
        #expect(w.process == "/usr/bin/python3" && w.parameters == ["worker.py", "--queue"] && w.parameterMatch == .partial && w.fullCommand)
        #expect(z.quorum == 0 && z.quorumMax == 0)
        #expect(c.instances[0].trackProcesses == [.init(name: "nginx", weight: -20, reverse: true), .init(name: "worker", weight: 10)])
        #expect(c.unsupported.isEmpty && c.trackedProcessNames == ["nginx", "worker"])
    }

    @Test func badTrackProcessValuesAreKeepalivedsErrors() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_track_process p {
            weight 2
        }
        vrrp_track_process q {
            process q
            quorum 0
            quorum_max 70000
            param_match sideways
            delay 0
        }
        """)
        #expect(c.errors.map(\.message) == [
            "track process 'p' process name not specified",
            "Quorum (0) for vrrp_track_process q must be between [1..65535] inclusive. Ignoring...",
            "quorum_max (70000) for vrrp_track_process q must be between [0..65535] inclusive. Ignoring...",
            "Invalid param_match type sideways - ignoring",
            "delay (0) for vrrp_track_process q must be between [0.000001..3600] inclusive. Ignoring...",
        ])
        #expect(c.trackProcesses.map(\.name) == ["q"])
    }
}
