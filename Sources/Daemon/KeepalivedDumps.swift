#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import VRRP
import IPAddressing

/// keepalived's signal dumps (spec §3.8): SIGUSR2 statistics in its exact layout, SIGUSR1
/// data (the lines tooling greps for) and the JSON array. Unlike keepalived, passwords
/// are never written: the files are world-readable evidence, not configuration.
extension KeepalivedDaemon {
    /// keepalived's numbers for its states (vrrp.h), as its JSON dump and the
    /// `tandem_vrrp_state` metric give them.
    static func stateCode(_ s: InstanceMachine.State) -> Int {
        switch s {
        case .initial: 0
        case .backup: 1
        case .master: 2
        case .fault: 3
        case .stopped: 98
        }
    }

    public func statisticsText() -> String {
        var out = ""
        for i in instances {
            let c = i.filter.counters
            let n = { (r: ReceiveFilter.Rejection) in c[r, default: 0] }
            out += """
            VRRP Instance: \(i.config.name)
              Advertisements:
                Received: \(i.filter.received)
                Sent: \(i.stats.sent)
              Became master: \(i.stats.becameMaster)
              Released master: \(i.stats.releasedMaster)
              Packet Errors:
                Length: \(n(.length))
                TTL: \(n(.wrongTTL))
                Invalid Type: \(n(.invalidType))
                Advertisement Interval: \(n(.intervalMismatch))
                Address List: \(n(.addressMismatch))
              Authentication Errors:
                Invalid Type: \(n(.invalidAuthType))
                Type Mismatch: \(n(.authTypeMismatch))
                Failure: \(n(.authFailure) + n(.authReplay))
              Priority Zero:
                Received: \(i.filter.priorityZeroReceived)
                Sent: \(i.stats.priorityZeroSent)

            """
        }
        return out
    }

    /// After a STATS_CLEAR dump: every counter starts again from zero.
    public func clearStatistics() {
        for i in instances {
            i.filter.resetCounters()
            i.stats = InstanceStatistics()
        }
    }

    public func dataText() -> String {
        var out = "------< Global definitions >------\n"
        out += " Router ID = \(configuration.routerID ?? "(none)")\n"
        out += " FIFO write vrrp states on reload = \(configuration.fifoWriteStatesOnReload)\n"
        out += " VRRP notify priority changes = \(configuration.notifyPriorityChanges)\n"
        out += " Gratuitous ARP interval = \(Self.microsecondsAsSeconds(configuration.garpInterval))\n"
        out += " Gratuitous NA interval = \(Self.microsecondsAsSeconds(configuration.gnaInterval))\n"
        out += " VRRP default protocol version = \(configuration.vrrpVersion)\n"
        out += " VRRP strict mode = \(configuration.strict)\n"
        if configuration.logUnknownVRIDs { out += " log_unknown_vrids\n" }
        if let p = configuration.vmacPrefix { out += " VMAC prefix = \(p)\n" }
        if let p = configuration.vmacAddressPrefix { out += " VMAC address prefix = \(p)\n" }
        out += "------< VRRP Topology >------\n"
        for i in instances {
            let m = i.machine
            let c = i.config
            out += " VRRP Instance = \(c.name)\n"
            out += "   VRRP Version = \(i.version.rawValue)\n"
            out += "   State = \(m.state.rawValue)\n"
            out += "   Number of interface and track script faults = \(i.faults.count)\n"
            out += "   Last transition = \(Self.epoch(i.lastTransition))\n"
            out += "   Master down timer = \(m.masterDownInterval.microsecondCount) usecs\n"
            if let vmac = c.vmacName {
                out += "   Interface = \(vmac), vmac on \(c.interface ?? "")\(c.vmacTransmitBase ? ", xmit base i/f" : "")\n"
            } else {
                out += "   Interface = \(c.interface ?? "")\n"
            }
            out += "   Using src_ip = \(i.source)\n"
            if c.unicastPeers.isEmpty {
                out += "   Multicast address \(i.multicastGroup)\n"
            } else {
                out += "   Unicast Peer(s) (\(c.unicastPeers.count)):\n"
                for p in c.unicastPeers { out += "     \(p.address)\n" }
                if i.filter.oldUnicastChecksum { out += "   Old unicast checksum = yes (detected)\n" }
            }
            out += "   Gratuitous ARP delay = \(Self.number(c.garpMasterDelay))\n"
            out += "   Gratuitous ARP repeat = \(c.garpMasterRepeat)\n"
            out += "   Gratuitous ARP lower priority delay = \(c.garpLowerPriorityDelay)\n"
            out += "   Gratuitous ARP lower priority repeat = \(c.garpLowerPriorityRepeat)\n"
            out += "   Down timer adverts = \(c.downTimerAdverts)\n"
            out += "   Send advert after receive lower priority advert = \(!c.lowerPriorityNoAdvert)\n"
            out += "   Send advert after receive higher priority advert = \(c.higherPriorityAdvert)\n"
            out += "   Virtual Router ID = \(c.virtualRouterID ?? 0)\n"
            out += "   Priority = \(c.effectivePriority)\n"
            out += "   Effective priority = \(m.parameters.priority)\n"
            out += "   Total priority = \(c.effectivePriority + i.trackWeight)\n"
            if demotion > 0 { out += "   Demotion (sync incomplete) = \(demotion)\n" }
            out += i.version == .v2 ? "   Advert interval = \(m.parameters.interval.wholeSeconds) sec\n"
                : "   Advert interval = \(m.parameters.interval.microsecondCount / 1000) milli-sec\n"
            out += "   Preempt = \(c.noPreempt ? "disabled" : "enabled")\n"
            if c.preemptDelay > 0 { out += "   Preempt delay = \(Self.number(c.preemptDelay)) secs\n" }
            out += "   Promote_secondaries = \(c.promoteSecondaries ? "enabled" : "disabled")\n"
            if i.password != nil {
                out += "   Authentication type = SIMPLE_PASSWORD\n"
                out += "   Password = (hidden)\n"
            }
            out += "   Virtual IP (\(c.virtualAddresses.count)):\n"
            for v in c.virtualAddresses { out += "     \(vipText(i, v))\n" }
            if !c.excludedAddresses.isEmpty {
                out += "   Virtual IP Excluded :\n"
                for v in c.excludedAddresses { out += "     \(vipText(i, v))\n" }
            }
            if !c.virtualRules.isEmpty {
                out += "   Virtual Rules :\n"
                for r in c.virtualRules { out += "     \(Self.describe(r))\n" }
            }
            if !c.trackInterfaces.isEmpty {
                out += "   Tracked interfaces :\n"
                for t in c.trackInterfaces { out += "     \(t.name) weight \(t.weight ?? 0)\(t.reverse ? " reverse" : "") \(links.up[t.name] == true ? "UP" : "DOWN")\n" }
            }
            if !c.trackScripts.isEmpty {
                out += "   Tracked scripts :\n"
                for t in c.trackScripts {
                    let s = scripts.status(t.name).map { $0 ? "GOOD" : "BAD" } ?? "INIT"
                    out += "     \(t.name) weight \(t.weight ?? configuration.scripts.first { $0.name == t.name }?.weight ?? 0) \(s)\n"
                }
            }
            out += "   Notify priority changes = \(c.notifyPriorityChanges ?? configuration.notifyPriorityChanges)\n"
            if !i.filter.counters.isEmpty { out += "   Rejected adverts = \(rejectionSummary(i))\n" }
        }
        if !configuration.syncGroups.isEmpty {
            out += "------< VRRP Sync groups >------\n"
            for (gi, g) in configuration.syncGroups.enumerated() {
                out += " VRRP Sync Group = \(g.name), \((groupStates[gi] ?? .backup).rawValue)\n"
                out += "   VRRP member instances = \(g.members.count)\n"
                for m in g.members { out += "     \(m)\n" }
            }
        }
        return out
    }

    public func jsonText() -> String {
        let objects = instances.map { i -> String in
            let m = i.machine
            let c = i.config
            let n = { (r: ReceiveFilter.Rejection) in i.filter.counters[r, default: 0] }
            let stateCode = KeepalivedDaemon.stateCode(m.state)
            var data: [(String, String)] = [
                ("iname", Self.json(c.name)), ("dont_track_primary", "0"), ("skip_check_adv_addr", "0"),
                ("strict_mode", (c.strictMode ?? configuration.strict) ? "1" : "0"), ("vmac_ifname", Self.json(c.vmacName ?? "")),
                ("ifp_ifname", Self.json(c.vmacName ?? c.interface ?? "")),
                ("master_priority", "0"), ("last_transition", Self.epoch(i.lastTransition)),
                ("garp_delay", Self.number(c.garpMasterDelay)), ("garp_refresh", Self.number(c.garpMasterRefresh)),
                ("garp_rep", "\(c.garpMasterRepeat)"), ("garp_refresh_rep", "\(c.garpMasterRefreshRepeat)"),
                ("garp_lower_prio_delay", "\(c.garpLowerPriorityDelay)"), ("garp_lower_prio_rep", "\(c.garpLowerPriorityRepeat)"),
                ("lower_prio_no_advert", m.parameters.lowerPriorityNoAdvert ? "1" : "0"),
                ("higher_prio_send_advert", m.parameters.higherPriorityAdvert ? "1" : "0"),
                ("vrid", "\(c.virtualRouterID ?? 0)"), ("base_priority", "\(c.effectivePriority)"),
                ("effective_priority", "\(m.parameters.priority)"), ("vipset", m.state == .master ? "true" : "false"),
                ("promote_secondaries", c.promoteSecondaries ? "true" : "false"), ("adver_int", Self.number(m.parameters.interval.secondsValue)),
                ("master_adver_int", Self.number(m.masterAdvertisementInterval.secondsValue)), ("accept", c.acceptMode ? "1" : "0"),
                ("nopreempt", c.noPreempt ? "true" : "false"), ("preempt_delay", Self.number(c.preemptDelay)),
                ("state", "\(stateCode)"), ("wantstate", "\(stateCode)"), ("version", "\(i.version.rawValue)"),
                ("smtp_alert", "false"), ("notify_deleted", "false"),
            ]
            if let s = c.notify.backup { data.append(("script_backup", Self.json(s))) }
            if let s = c.notify.master { data.append(("script_master", Self.json(s))) }
            if let s = c.notify.fault { data.append(("script_fault", Self.json(s))) }
            if let s = c.notify.stop { data.append(("script_stop", Self.json(s))) }
            if let s = c.notify.generic { data.append(("script", Self.json(s))) }
            if let s = c.notify.masterRxLowerPriority { data.append(("script_master_rx_lower_pri", Self.json(s))) }
            // keepalived leaves an empty list out of the object.
            if !c.virtualAddresses.isEmpty {
                data.append(("vips", "[" + c.virtualAddresses.map { Self.json(vipText(i, $0)) }.joined(separator: ",") + "]"))
            }
            if !c.excludedAddresses.isEmpty {
                data.append(("evips", "[" + c.excludedAddresses.map { Self.json(vipText(i, $0)) }.joined(separator: ",") + "]"))
            }
            if !c.trackInterfaces.isEmpty { data.append(("track_ifp", "[" + c.trackInterfaces.map { Self.json($0.name) }.joined(separator: ",") + "]")) }
            if !c.trackScripts.isEmpty { data.append(("track_script", "[" + c.trackScripts.map { Self.json($0.name) }.joined(separator: ",") + "]")) }
            // The type is reported; the password itself never is.
            if i.password != nil { data.append(("auth_type", "1")) }
            let stats: [(String, Int)] = [
                ("advert_rcvd", i.filter.received), ("advert_sent", i.stats.sent), ("become_master", i.stats.becameMaster),
                ("release_master", i.stats.releasedMaster), ("packet_len_err", n(.length)), ("advert_interval_err", n(.intervalMismatch)),
                ("ip_ttl_err", n(.wrongTTL)), ("invalid_type_rcvd", n(.invalidType)), ("addr_list_err", n(.addressMismatch)),
                ("invalid_authtype", n(.invalidAuthType)), ("authtype_mismatch", n(.authTypeMismatch)), ("auth_failure", n(.authFailure) + n(.authReplay)),
                ("pri_zero_rcvd", i.filter.priorityZeroReceived), ("pri_zero_sent", i.stats.priorityZeroSent),
            ]
            return "{\"data\":{" + data.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "},\"stats\":{"
                + stats.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}}"
        }
        return "[" + objects.joined(separator: ",") + "]\n"
    }

    /// keepalived's umask_val: 0177 unless global_defs' umask or -u set another, which the
    /// tool stores here. Dumps are made 0666 less it, as keepalived's fopen_safe makes them.
    nonisolated(unsafe) public static var fileMask: mode_t = 0o177

    /// Writes a dump file (0600 with keepalived's default mask), replacing an older one.
    public static func writeDump(_ text: String, to path: String) -> Bool {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // Set after the open, so the process's own mask cannot narrow it further.
        fchmod(fd, 0o666 & ~fileMask)
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
    }

    /// keepalived's format_ipaddress: a host prefix (/32, /128) is not written.
    func vipText(_ i: Instance, _ v: KeepalivedConfiguration.VirtualAddress) -> String {
        let full = v.address.family == AddressFamily.inet ? 32 : 128
        // keepalived names a macvlan with its base: `dev vrrp.51@eth0`.
        let home = i.config.vmacName.map { "\($0)@\(i.config.interface ?? "")" } ?? i.config.interface ?? ""
        return "\(v.address)\(v.prefix == full ? "" : "/\(v.prefix)")\(v.broadcast.map { " brd \($0)" } ?? "")"
            + " dev \(v.vmacDevice.map { "\($0)@\(v.device ?? "")" } ?? v.device ?? home)\(v.useVMAC ? " use_vmac" : "") scope \(v.scope ?? "global")"
            + (v.label.map { " label \($0)" } ?? "") + Self.flagText(v) + Self.lifetimeText(v)
            + (i.machine.state == .master && !i.refusedAddresses.contains(v) ? " set" : "")
    }

    /// The peer and the flag words, in keepalived's order (`-nodad` between `home` and
    /// `mngtmpaddr`).
    static func flagText(_ v: KeepalivedConfiguration.VirtualAddress) -> String {
        var text = v.peer.map { " peer \($0)/\(v.prefix)" } ?? ""
        if v.flags.contains(.homeAddress) { text += " home" }
        if v.detectsDuplicates { text += " -nodad" }
        for (word, flag) in AddressFlags.words where flag != .homeAddress && v.flags.contains(flag) { text += " " + word }
        return text + (v.noTrack ? " no_track" : "")
    }

    /// keepalived writes an IPv6 address's preferred lifetime in its data dump.
    static func lifetimeText(_ v: KeepalivedConfiguration.VirtualAddress) -> String {
        guard v.address.family == AddressFamily.inet6 else { return "" }
        switch v.kernelPreferredLifetime {
        case nil: return " preferred_lft forever"
        case 0: return " deprecated"
        case let seconds?: return " preferred_lft \(seconds)"
        }
    }

    static func epoch(_ t: Double) -> String {
        let micro = Int((t * 1e6).rounded())
        let frac = String(micro % 1_000_000)
        return "\(micro / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    /// printf's `%f` of a microsecond count in seconds: six decimals, as keepalived writes
    /// its global GARP / NA intervals.
    static func microsecondsAsSeconds(_ us: Int) -> String {
        let frac = String(us % 1_000_000)
        return "\(us / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() ? String(Int(d)) : String(d)
    }

    static func json(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += "\\/"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 { out += "\\u00" + (c.value < 0x10 ? "0" : "") + String(c.value, radix: 16) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}
