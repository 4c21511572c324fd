/// Which daemons run on the firewalls.
public enum LabStack: String, CaseIterable, Sendable {
    /// `tandem run`: both roles in one process; a VRRP transition commits directly.
    case tandemRun = "tandem-run"
    /// Tandem as separate conntrackd and keepalived (busybox links), with the seed's script.
    case tandemSplit = "tandem-split"
    /// Debian's conntrackd and keepalived with the seed's script: the yardstick.
    case reference
    /// Debian's daemons on fw1, `tandem run` on fw2: failover lands on Tandem fed by C peers.
    case mixed

    func flavor(of fw: Firewall) -> FirewallFlavor {
        switch self {
        case .tandemRun: return .tandemRun
        case .tandemSplit: return .tandemSplit
        case .reference: return .reference
        case .mixed: return fw == .fw1 ? .reference : .tandemRun
        }
    }
}

/// What one firewall runs.
enum FirewallFlavor: Sendable {
    case tandemRun, tandemSplit, reference

    /// The separate daemons' stacks commit through keepalived's notify script.
    var usesNotifyScript: Bool { self != .tandemRun }

    var description: String {
        switch self {
        case .tandemRun: return "tandem run"
        case .tandemSplit: return "tandem conntrackd + tandem keepalived + primary-backup.sh"
        case .reference: return "conntrackd 1.4.7 + keepalived 2.2.7 + primary-backup.sh (Debian)"
        }
    }
}

/// A process the lab starts on a firewall. For keepalived it is the parent, which owns
/// the VRRP child and stops it on SIGTERM.
enum DaemonRole: String, CaseIterable, Sendable {
    case conntrackd, keepalived
    case tandemRun = "tandem-run"

    var pidFile: String { rawValue + ".lab.pid" }
    /// conntrackd writes its own log to the LogFile the config names, so its console
    /// output goes elsewhere.
    var logFile: String { self == .conntrackd ? "conntrackd.stdout" : rawValue + ".log" }
    /// The process whose end is a VRRP failover (the seed's `systemctl stop keepalived`).
    var runsVRRP: Bool { self != .conntrackd }
}

extension FirewallFlavor {
    /// Start order on one firewall: replication first, so it is ready when VRRP decides.
    var roles: [DaemonRole] { self == .tandemRun ? [.tandemRun] : [.conntrackd, .keepalived] }
}
