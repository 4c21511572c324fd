#if canImport(Glibc)
import Glibc
#endif

/// The seed's network in namespaces: client and server on two bridges of a switch
/// namespace (LAN, WAN), two firewalls on both, and the firewalls' dedicated sync cable.
/// Every interface is created inside a lab namespace; the host's own is never touched.
struct Topology {
    let names: LabNames
    let ip: String

    init(names: LabNames) throws(LabError) {
        self.names = names
        ip = try ExternalCommand.require("ip", for: "building namespaces (iproute2)")
    }

    func build(rulesFile: String) throws(LabError) {
        let sysctl = try ExternalCommand.require("sysctl", for: "namespace settings (procps)")
        let restore = try ExternalCommand.require("iptables-restore", for: "the seed's ruleset (iptables)")
        for ns in names.allNamespaces {
            try run("netns", "add", ns)
            try run("-n", ns, "link", "set", "lo", "up")
            try inside(ns, sysctl, "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        }
        let sw = names.switchBox
        // Bridged frames must not pass the switch's own netfilter (on by default per netns).
        _ = try? inside(sw, sysctl, "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-arptables=0")
        for bridge in [LabInterface.lanBridge, LabInterface.wanBridge] {
            try run("-n", sw, "link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0")
            try run("-n", sw, "link", "set", bridge, "up")
        }
        try plug(LabInterface.lanBridge, "p-client", names.client, LabInterface.host, SeedAddressing.clientMAC)
        try plug(LabInterface.wanBridge, "p-server", names.server, LabInterface.host, SeedAddressing.serverMAC)
        for fw in Firewall.allCases {
            let ns = names.namespace(fw)
            try plug(LabInterface.lanBridge, LabInterface.switchPort(fw, lan: true), ns, LabInterface.lan, SeedAddressing.mac(fw, LabInterface.lan))
            try plug(LabInterface.wanBridge, LabInterface.switchPort(fw, lan: false), ns, LabInterface.wan, SeedAddressing.mac(fw, LabInterface.wan))
        }
        try run("-n", names.namespace(.fw1), "link", "add", LabInterface.sync, "type", "veth", "peer", "name", LabInterface.sync,
                "netns", names.namespace(.fw2))
        for fw in Firewall.allCases {
            let ns = names.namespace(fw)
            try run("-n", ns, "link", "set", LabInterface.sync, "address", SeedAddressing.mac(fw, LabInterface.sync), "up")
            try run("-n", ns, "addr", "add", "\(SeedAddressing.lan(fw))/24", "dev", LabInterface.lan)
            try run("-n", ns, "addr", "add", "\(SeedAddressing.wan(fw))/24", "dev", LabInterface.wan)
            try run("-n", ns, "addr", "add", "\(SeedAddressing.sync(fw))/24", "dev", LabInterface.sync)
            try inside(ns, sysctl, "-qw", "net.ipv4.ip_forward=1", "net.ipv4.ip_nonlocal_bind=1")
            try inside(ns, restore, rulesFile)
        }
        try run("-n", names.client, "addr", "add", "\(SeedAddressing.client)/24", "dev", LabInterface.host)
        try run("-n", names.client, "route", "add", "default", "via", SeedAddressing.lanVIP)
        // The ICMP session uses an unprivileged-style ping socket; allow every group.
        try inside(names.client, sysctl, "-qw", "net.ipv4.ping_group_range=0 2147483647")
        // No route on the server: its replies go to the on-link WAN VIP, as in the seed.
        try run("-n", names.server, "addr", "add", "\(SeedAddressing.server)/24", "dev", LabInterface.host)
    }

    /// One cable from a switch bridge to a host: the switch end is `port`.
    private func plug(_ bridge: String, _ port: String, _ ns: String, _ interface: String, _ mac: String) throws(LabError) {
        let sw = names.switchBox
        try run("-n", sw, "link", "add", port, "type", "veth", "peer", "name", interface, "netns", ns)
        try run("-n", ns, "link", "set", interface, "address", mac)
        try run("-n", sw, "link", "set", port, "master", bridge, "up")
        try run("-n", ns, "link", "set", interface, "up")
    }

    /// Plugs a firewall's LAN and WAN cables in or out at the switch.
    func setSwitchPorts(of fw: Firewall, up: Bool) throws(LabError) {
        for lan in [true, false] {
            try run("-n", names.switchBox, "link", "set", LabInterface.switchPort(fw, lan: lan), up ? "up" : "down")
        }
    }

    func setSyncLink(of fw: Firewall, up: Bool) throws(LabError) {
        try run("-n", names.namespace(fw), "link", "set", LabInterface.sync, up ? "up" : "down")
    }

    /// What a reboot clears on a firewall: the virtual addresses it still had configured.
    func removeVirtualAddresses(from fw: Firewall) {
        let ns = names.namespace(fw)
        _ = try? ExternalCommand.run([ip, "-n", ns, "addr", "del", "\(SeedAddressing.lanVIP)/24", "dev", LabInterface.lan])
        _ = try? ExternalCommand.run([ip, "-n", ns, "addr", "del", "\(SeedAddressing.wanVIP)/24", "dev", LabInterface.wan])
    }

    /// Stops every process in the lab's namespaces (by PID), then deletes the namespaces.
    /// Returns what it found, so `down` can say whether anything was there.
    @discardableResult
    func teardown(firstStopping mains: [pid_t] = []) -> (namespaces: Int, processes: Int) {
        let all = names.allNamespaces
        let present = all.filter { NamespaceProcesses.inode(ofNamespace: $0) != nil }
        var found = Set<pid_t>()
        // keepalived's parent first: it stops its VRRP child and resigns cleanly.
        let liveMains = mains.filter { NamespaceProcesses.belongs($0, to: present) && NamespaceProcesses.isAlive($0) }
        if !liveMains.isEmpty {
            found.formUnion(liveMains)
            NamespaceProcesses.stop(liveMains, in: present, grace: 5)
        }
        // Notify scripts may have started more (primary-backup.sh runs `conntrackd -d`):
        // collect again until the namespaces are empty, a bounded number of rounds.
        for _ in 0..<3 {
            let rest = present.flatMap { NamespaceProcesses.pids(in: $0) }
            if rest.isEmpty { break }
            found.formUnion(rest)
            NamespaceProcesses.stop(rest, in: present, grace: 5)
        }
        for ns in present { _ = try? ExternalCommand.run([ip, "netns", "del", ns]) }
        return (present.count, found.count)
    }

    private func run(_ args: String...) throws(LabError) {
        try ExternalCommand.check([ip] + args)
    }

    private func inside(_ ns: String, _ args: String...) throws(LabError) {
        try ExternalCommand.check([ip, "netns", "exec", ns] + args)
    }
}
