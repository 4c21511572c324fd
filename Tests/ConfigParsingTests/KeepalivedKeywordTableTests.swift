import ConfigParsing
import Foundation
import TestSupport
import Testing

/// The keyword catalogue (KeepalivedKeywords) is the parser's list: every keyword in it is
/// interpreted, refused with its location and "not supported", or warned about as out of
/// scope; it holds exactly keepalived 2.2.7's keywords; docs/compatibility.md lists it.
@Suite struct KeepalivedKeywordTableTests {
    /// keepalived 2.2.7's keywords in the blocks Tandem interprets, from its parsers'
    /// install_keyword calls (vrrp_parser.c, global_parser.c, track_file.c, check_parser.c,
    /// bfd_parser.c at tag v2.2.7) as Debian builds it (without libipset: no vrrp_ipsets).
    static let keepalived227: [String: [String]] = [
        "top level": ["SSL", "bfd_instance", "child_wait_time", "garp_group", "global_defs", "instance",
            "interface_up_down_delays", "linkbeat_interfaces", "linkbeat_use_polling", "namespace_with_ipsets", "net_namespace",
            "net_namespace_ipvs", "static_ipaddress", "static_routes", "static_rules", "track_file", "track_group",
            "use_pid_dir", "virtual_server", "virtual_server_group", "vrrp_instance", "vrrp_script", "vrrp_sync_group",
            "vrrp_track_file", "vrrp_track_process"],
        "global_defs": ["bfd_cpu_affinity", "bfd_no_swap", "bfd_priority", "bfd_process_name", "bfd_rlimit_rtime",
            "bfd_rlimit_rttime", "bfd_rt_priority", "checker_cpu_affinity", "checker_log_all_failures", "checker_no_swap",
            "checker_priority", "checker_process_name", "checker_rlimit_rtime", "checker_rlimit_rttime", "checker_rt_priority",
            "config_save_dir", "data_use_instance", "dbus_service_name", "default_interface", "disable_local_igmp",
            "dynamic_interfaces", "enable_dbus", "enable_script_security", "enable_snmp_checker", "enable_snmp_keepalived",
            "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3", "enable_snmp_vrrp", "enable_traps",
            "fifo_write_vrrp_states_on_reload", "include_check", "log_unknown_vrids", "lvs_flush", "lvs_flush_on_stop",
            "lvs_flush_onstop", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
            "lvs_netlink_monitor_rcv_bufs_force", "lvs_notify_fifo", "lvs_notify_fifo_script", "lvs_process_name",
            "lvs_sync_daemon", "lvs_timeouts", "max_auto_priority", "min_auto_priority_delay", "nftables", "nftables_counters",
            "nftables_ifindex", "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_priority",
            "no_checker_emails", "no_email_faults", "notification_email", "notification_email_from", "notify_fifo",
            "notify_fifo_script", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "process_name", "process_names",
            "random_seed", "reload_check_config", "reload_file", "reload_repeat", "reload_time_file", "router_id",
            "rs_init_notifies", "script_user", "shutdown_script", "shutdown_script_timeout", "smtp_alert", "smtp_alert_checker",
            "smtp_alert_vrrp", "smtp_connect_timeout", "smtp_helo_name", "smtp_server", "snmp_socket", "startup_script",
            "startup_script_timeout", "tmp_config_directory", "umask", "vmac_addr_prefix", "vmac_prefix",
            "vrrp_check_unicast_src", "vrrp_cpu_affinity", "vrrp_down_timer_adverts", "vrrp_garp_extra_if", "vrrp_garp_interval",
            "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat", "vrrp_garp_master_delay", "vrrp_garp_master_refresh",
            "vrrp_garp_master_refresh_repeat", "vrrp_garp_master_repeat", "vrrp_gna_interval", "vrrp_higher_prio_send_advert",
            "vrrp_iptables", "vrrp_lower_prio_no_advert", "vrrp_mcast_group4", "vrrp_mcast_group6",
            "vrrp_min_garp", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
            "vrrp_netlink_monitor_rcv_bufs_force", "vrrp_no_swap", "vrrp_notify_fifo", "vrrp_notify_fifo_script",
            "vrrp_notify_priority_changes", "vrrp_priority", "vrrp_process_name", "vrrp_rlimit_rtime", "vrrp_rlimit_rttime",
            "vrrp_rt_priority", "vrrp_rx_bufs_multiplier", "vrrp_rx_bufs_policy", "vrrp_skip_check_adv_addr",
            "vrrp_startup_delay", "vrrp_strict", "vrrp_version", "vrrp_vmac_garp_intvl"],
        "vrrp_sync_group": ["global_tracking", "group", "notify", "notify_backup", "notify_fault", "notify_master",
            "notify_priority_changes", "notify_stop", "smtp_alert", "sync_group_tracking_weight", "track_bfd", "track_file",
            "track_interface", "track_process", "track_script"],
        "vrrp_instance": ["accept", "advert_int", "authentication", "check_unicast_src", "debug", "dont_track_primary",
            "down_timer_adverts", "garp_extra_if", "garp_lower_prio_delay", "garp_lower_prio_repeat", "garp_master_delay",
            "garp_master_refresh", "garp_master_refresh_repeat", "garp_master_repeat", "higher_prio_send_advert", "interface",
            "kernel_rx_buf_size", "linkbeat_use_polling", "lower_prio_no_advert", "lvs_sync_daemon_interface", "mcast_dst_ip",
            "mcast_src_ip", "native_ipv6", "no_accept", "nopreempt", "notify", "notify_backup", "notify_deleted", "notify_fault",
            "notify_master", "notify_master_rx_lower_pri", "notify_priority_changes", "notify_stop", "old_unicast_checksum",
            "preempt", "preempt_delay", "priority", "promote_secondaries", "skip_check_adv_addr", "smtp_alert", "state",
            "strict_mode", "track_bfd", "track_file", "track_interface", "track_process", "track_script", "track_src_ip",
            "unicast_fault_no_peer", "unicast_peer", "unicast_src_ip", "unicast_ttl", "use_ipvlan", "use_vmac", "use_vmac_addr",
            "version", "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_router_id", "virtual_routes", "virtual_rules",
            "vmac_garp_intvl", "vmac_xmit_base", "vrf"],
        "authentication": ["auth_pass", "auth_type"],
        "vrrp_script": ["fall", "init_fail", "interval", "rise", "script", "timeout", "user", "weight"],
        "track_file": ["file", "init_file", "weight"],
        "track_group": ["group"],
        "vrrp_track_process": ["delay", "fork_delay", "full_command", "param_match", "process", "quorum", "quorum_max",
            "terminate_delay", "weight"],
    ]

    /// One statement of `keyword` inside its block, on line 2 (or line 1 at the top level).
    static func config(_ k: KeepalivedKeyword) -> String {
        // A table name is an nft identifier under Tandem (a digit first is refused on its own).
        let argument = k.name == "nftables" ? "kv" : "1"
        let statement = KeepalivedConfigParser.blockKeywords.contains(k.name) ? "\(k.name) {\n }" : "\(k.name) \(argument)"
        return switch k.block {
        case KeepalivedKeywords.topLevel: "\(k.name) X {\n}\n"
        case "authentication": "vrrp_instance V {\n authentication {\n  \(k.name) PASS\n }\n}\n"
        default: "\(k.block) \(k.block == "global_defs" ? "" : "V") {\n \(statement)\n}\n"
        }
    }

    @Test func catalogueHoldsExactlyKeepalivedsKeywords() {
        let ours = Dictionary(grouping: KeepalivedKeywords.all, by: \.block).mapValues { Set($0.map(\.name)) }
        #expect(Set(ours.keys) == Set(Self.keepalived227.keys))
        for (block, names) in Self.keepalived227 {
            let missing = Set(names).subtracting(ours[block] ?? [])
            let extra = (ours[block] ?? []).subtracting(names)
            #expect(missing.isEmpty && extra.isEmpty, "\(block): not in the catalogue \(missing.sorted()), not keepalived's \(extra.sorted())")
        }
        // No keyword twice in a block.
        #expect(Set(KeepalivedKeywords.all.map { $0.block + " " + $0.name }).count == KeepalivedKeywords.all.count)
    }

    @Test func everyKeywordGetsItsStatus() throws {
        for k in KeepalivedKeywords.all {
            let c = try KeepalivedConfigParser.parse(Self.config(k), file: "/etc/keepalived/keepalived.conf")
            let line = k.block == KeepalivedKeywords.topLevel ? 1 : k.block == "authentication" ? 3 : 2
            let unknown = c.errors.filter { $0.message.contains("Unknown keyword") }
            let named = c.warnings.filter { $0.location.line == line && $0.message.contains("outside tandem's scope") }
            #expect(unknown.isEmpty, "\(k.block) \(k.name): \(unknown)")
            switch k.status {
            case .actedOn:
                #expect(c.unsupported.isEmpty && named.isEmpty, "\(k.block) \(k.name): \(c.unsupported) \(named)")
            case .refused:
                #expect(c.unsupported.count == 1, "\(k.block) \(k.name): \(c.unsupported)")
                let e = try #require(c.unsupported.first)
                #expect(e.location.line == line && e.token == k.name && e.description.contains("not supported"), "\(e)")
                #expect(named.isEmpty)
            case .outOfScope:
                #expect(c.unsupported.isEmpty && named.count == 1, "\(k.block) \(k.name): \(c.unsupported) \(c.warnings)")
            }
        }
    }

    /// The control: a word keepalived does not know is neither acted on nor refused but
    /// reported as keepalived reports it, with its location.
    @Test func aWordKeepalivedDoesNotKnowIsAnUnknownKeyword() throws {
        let c = try KeepalivedConfigParser.parse("vrrp_instance V {\n   tdu_no_such_keyword 1\n}\n", file: "k.conf")
        #expect(c.unsupported.isEmpty)
        #expect(c.errors.contains { $0.description.hasPrefix("k.conf:2:4: error: Unknown keyword 'tdu_no_such_keyword'") })
    }

    @Test func refusalsNameFileLineAndColumn() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_instance V {
            interface eth0
            virtual_router_id 9
            use_ipvlan
            unicast_peer {
                10.234.0.2 min_ttl 2
            }
            virtual_ipaddress_excluded {
                fd00::9/64 dev eth0 use_vmac
            }
            notify_master /bin/true nobody
        }
        """, file: "/etc/keepalived/keepalived.conf")
        #expect(c.unsupported.map(\.description) == [
            "/etc/keepalived/keepalived.conf:4:5: error: `use_ipvlan' in vrrp_instance is not supported by tandem (at `use_ipvlan')",
        ])
        // A user after a notify command is acted on now (it runs as that user), not refused.
        #expect(c.instances.first?.notify.runAs[.master] == (try ScriptUser.resolve("nobody", group: nil).get()))
        #expect(c.errors.isEmpty, "\(c.errors)")
    }

    @Test func outOfScopeBlocksGetOneWarningEach() throws {
        let c = try KeepalivedConfigParser.parse("""
        virtual_server 10.234.0.1 80 {
            delay_loop 6
            real_server 10.234.0.2 80 {
                weight 1
            }
        }
        bfd_instance b1 {
            neighbor_ip 10.234.0.3
        }
        """)
        #expect(c.errors.isEmpty && c.unsupported.isEmpty)
        #expect(c.warnings.map(\.location.line) == [1, 7])
        #expect(c.warnings[0].message.contains("virtual_server 10.234.0.1") && c.warnings[1].message.contains("bfd_instance b1"))
    }

    /// Rows of the keepalived.conf table in docs/compatibility.md: (block, keyword, status).
    static func documentedRows() throws -> [String] {
        let path = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/") + "/docs/compatibility.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let section = text.components(separatedBy: "## keepalived.conf")[1].components(separatedBy: "\n## ")[0]
        return section.split(separator: "\n").compactMap { line -> String? in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5, cells[2].hasPrefix("`") else { return nil }
            return "\(cells[1]) \(cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`"))) \(cells[3])"
        }
    }

    @Test func compatibilityTableListsTheCatalogue() throws {
        let documented = try Self.documentedRows()
        let catalogue = KeepalivedKeywords.all.map { "\($0.block) \($0.name) \($0.status.rawValue)" }
        #expect(documented.count == catalogue.count)
        #expect(Set(documented).subtracting(catalogue).sorted() == [], "in the doc, not in the parser")
        #expect(Set(catalogue).subtracting(documented).sorted() == [], "in the parser, not in the doc")
    }

    /// keepalived 2.2.7 itself knows every catalogued keyword: each alone in its block is
    /// no "Unknown keyword" to it. The control, a made-up word, is one.
    @Test(.enabled(if: Shell.which("keepalived"), "needs keepalived"))
    func keepalivedKnowsEveryCataloguedKeyword() throws {
        let dir = NSTemporaryDirectory() + "tdu-kw-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func unknown(_ k: KeepalivedKeyword) throws -> Bool {
            try Self.config(k).write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
            return Shell.run(["keepalived", "-t", "-f", dir + "/k.conf"]).stderr.contains("Unknown keyword '\(k.name)'")
        }
        #expect(try unknown(KeepalivedKeyword("vrrp_instance", "tdu_made_up", .refused)))
        for k in KeepalivedKeywords.all {
            #expect(try !unknown(k), "keepalived 2.2.7 does not know \(k.block) \(k.name)")
        }
    }
}
