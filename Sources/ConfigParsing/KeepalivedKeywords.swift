/// Every keyword keepalived 2.2.7 (Debian's build: VRRP, LVS, BFD, VMAC, nftables, SNMP,
/// DBus; no libipset, so no vrrp_ipsets) knows, block by block, with what Tandem does with it. The parser consults this
/// table before it interprets a statement, and docs/compatibility.md is checked against
/// it, so a keyword is either acted on, refused with its location and "not supported", or
/// named in one warning as part of keepalived that Tandem leaves out — never accepted and
/// quietly dropped.
public enum KeepalivedKeywordStatus: String, Hashable, Sendable, CaseIterable {
    /// Interpreted as keepalived 2.2.7 interprets it.
    case actedOn = "acted on"
    /// `-t` and the daemon's start name it with file:line:column and "not supported".
    case refused = "refused"
    /// A non-VRRP part of keepalived (LVS, BFD, SMTP alerts, SNMP/DBus): one warning names it.
    case outOfScope = "out of scope"
}

public struct KeepalivedKeyword: Hashable, Sendable {
    /// The block it belongs to: "top level", "global_defs", "vrrp_instance", "authentication", ...
    public var block: String
    public var name: String
    public var status: KeepalivedKeywordStatus
    public init(_ block: String, _ name: String, _ status: KeepalivedKeywordStatus) {
        self.block = block
        self.name = name
        self.status = status
    }
}

public enum KeepalivedKeywords {
    public static let topLevel = "top level"

    /// Looks a keyword up in its block; nil when keepalived does not know it either.
    public static func status(of name: String, in block: String) -> KeepalivedKeywordStatus? {
        index[block + " " + name]
    }

    private static let index: [String: KeepalivedKeywordStatus] = {
        var d: [String: KeepalivedKeywordStatus] = [:]
        for k in all { d[k.block + " " + k.name] = k.status }
        return d
    }()

    public static let all: [KeepalivedKeyword] =
        rows(topLevel, acted: ["global_defs", "vrrp_instance", "vrrp_sync_group", "vrrp_script", "static_ipaddress", "static_routes",
                                "static_rules", "track_file", "vrrp_track_file", "vrrp_track_process", "net_namespace",
                                "track_group"],
             refused: ["garp_group", "linkbeat_interfaces",
                       "linkbeat_use_polling", "interface_up_down_delays",
                       "namespace_with_ipsets", "use_pid_dir", "instance", "child_wait_time"],
             outOfScope: ["virtual_server", "virtual_server_group", "SSL", "bfd_instance", "net_namespace_ipvs"])
        + rows("global_defs",
               acted: ["router_id", "vrrp_version", "vrrp_garp_master_delay", "vrrp_garp_master_repeat", "vrrp_garp_master_refresh",
                       "vrrp_garp_master_refresh_repeat", "notify_fifo", "notify_fifo_script", "vrrp_notify_fifo",
                       "vrrp_notify_fifo_script", "enable_script_security", "script_user", "vrrp_strict", "vrrp_check_unicast_src",
                       "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_startup_delay", "vrrp_priority",
                       "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat", "vrrp_down_timer_adverts",
                       "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert",
                       "nftables", "nftables_priority", "nftables_counters", "vrrp_iptables",
                       "vrrp_garp_interval", "vrrp_gna_interval", "vrrp_min_garp", "vrrp_garp_extra_if", "vrrp_vmac_garp_intvl",
                       "vmac_prefix", "vmac_addr_prefix", "vrrp_notify_priority_changes", "fifo_write_vrrp_states_on_reload",
                       "log_unknown_vrids", "nftables_ifindex", "vrrp_skip_check_adv_addr", "vrrp_no_swap", "vrrp_cpu_affinity", "default_interface", "umask"],
               refused: ["process_names", "process_name", "vrrp_process_name", "startup_script", "startup_script_timeout",
                         "shutdown_script", "shutdown_script_timeout", "max_auto_priority", "min_auto_priority_delay",
                         "dynamic_interfaces", "disable_local_igmp",
                         "vrrp_rt_priority", "vrrp_rlimit_rttime",
                         "vrrp_rlimit_rtime",
                         "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
                         "vrrp_netlink_monitor_rcv_bufs_force", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force",
                         "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier", "random_seed", "reload_check_config", "reload_time_file", "reload_repeat",
                         "reload_file", "include_check", "config_save_dir", "tmp_config_directory", "data_use_instance"],
               outOfScope: ["checker_process_name", "lvs_process_name", "bfd_process_name", "notification_email_from", "smtp_server",
                            "smtp_helo_name", "smtp_connect_timeout", "notification_email", "smtp_alert", "smtp_alert_vrrp",
                            "smtp_alert_checker", "checker_log_all_failures", "no_email_faults", "lvs_timeouts", "lvs_flush",
                            "lvs_flush_on_stop", "lvs_flush_onstop", "lvs_sync_daemon", "nftables_ipvs", "nftables_ipvs_priority",
                            "nftables_ipvs_start_fwmark", "lvs_notify_fifo", "lvs_notify_fifo_script", "checker_priority",
                            "checker_no_swap", "checker_rt_priority", "checker_cpu_affinity", "checker_rlimit_rttime",
                            "checker_rlimit_rtime", "bfd_priority", "bfd_no_swap", "bfd_rt_priority", "bfd_cpu_affinity",
                            "bfd_rlimit_rttime", "bfd_rlimit_rtime", "snmp_socket", "enable_traps", "enable_snmp_vrrp",
                            "enable_snmp_keepalived", "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3",
                            "enable_snmp_checker", "enable_dbus", "dbus_service_name", "lvs_netlink_cmd_rcv_bufs",
                            "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force",
                            "rs_init_notifies", "no_checker_emails"])
        + rows("vrrp_instance",
               acted: ["state", "interface", "virtual_router_id", "priority", "advert_int", "version", "authentication",
                       "unicast_src_ip", "mcast_src_ip", "unicast_peer", "virtual_ipaddress", "virtual_routes", "preempt", "nopreempt",
                       "preempt_delay", "garp_master_delay", "garp_master_repeat", "garp_master_refresh", "garp_master_refresh_repeat",
                       "track_interface", "track_script", "dont_track_primary", "notify_master", "notify_backup", "notify_fault",
                       "notify_stop", "notify", "check_unicast_src", "unicast_ttl", "virtual_ipaddress_excluded", "virtual_rules",
                       "track_file", "track_process", "accept", "strict_mode", "garp_lower_prio_delay", "garp_lower_prio_repeat",
                       "down_timer_adverts", "lower_prio_no_advert", "higher_prio_send_advert", "no_accept", "use_vmac", "vmac_xmit_base",
                       "notify_master_rx_lower_pri", "garp_extra_if", "vmac_garp_intvl", "use_vmac_addr",
                       "notify_priority_changes", "promote_secondaries", "skip_check_adv_addr"],
               refused: ["use_ipvlan", "unicast_fault_no_peer",
                         "old_unicast_checksum", "native_ipv6", "vrf", "track_bfd", "mcast_dst_ip",
                         "track_src_ip", "linkbeat_use_polling",
                         "debug", "notify_deleted",
                         "kernel_rx_buf_size"],
               outOfScope: ["smtp_alert", "lvs_sync_daemon_interface"])
        + rows("authentication", acted: ["auth_type", "auth_pass"], refused: [], outOfScope: [])
        + rows("vrrp_sync_group",
               acted: ["group", "track_interface", "track_script", "notify_master", "notify_backup", "notify_fault", "notify_stop",
                       "notify", "global_tracking", "sync_group_tracking_weight", "track_file", "track_process",
                       "notify_priority_changes"],
               refused: [ "track_bfd"],
               outOfScope: ["smtp_alert"])
        + rows("vrrp_track_process", acted: ["process", "param_match", "weight", "quorum", "quorum_max", "delay", "terminate_delay",
                                             "fork_delay", "full_command"], refused: [], outOfScope: [])
        + rows("track_file", acted: ["file", "weight", "init_file"], refused: [], outOfScope: [])
        + rows("track_group", acted: ["group"], refused: [], outOfScope: [])
        + rows("vrrp_script", acted: ["script", "interval", "timeout", "weight", "rise", "fall", "init_fail", "user"],
               refused: [], outOfScope: [])

    static func rows(_ block: String, acted: [String], refused: [String], outOfScope: [String]) -> [KeepalivedKeyword] {
        acted.map { KeepalivedKeyword(block, $0, .actedOn) } + refused.map { KeepalivedKeyword(block, $0, .refused) }
            + outOfScope.map { KeepalivedKeyword(block, $0, .outOfScope) }
    }
}
