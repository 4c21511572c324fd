import ConfigParsing
import IPAddressing
import Netlink

/// keepalived 2.2.7's route and rule filters on a virtual route or rule deleted under a
/// MASTER (keepalived_netlink.c route_is_ours / compare_rule, set_vrrp_backup): the
/// instance owning the first match falls to BACKUP, so that the election, won again, puts
/// it back; one written `no_track` (or a route without its `dev`) is let go. Heard only
/// where the reflector listens (StaticTracking.watch), which a tracked one always makes so.
enum DeletedVirtualRoutes {
    /// route_is_ours on an instance's routes: table, family, prefix, metric, TOS, the
    /// interface (by index, `index` looking names up) and the destination.
    static func matches(_ v: VirtualRoute, _ d: LinkMonitor.DeletedRoute, index: (String) -> UInt32?) -> Bool {
        guard v.family == d.family, (v.table ?? StaticTracking.mainTable) == d.table, UInt8(v.prefix) == d.prefix,
              (v.metric ?? 0) == d.metric, d.tos == 0 else { return false }
        if let name = v.device {
            guard let i = index(name), d.interface == i else { return false }
        }
        let zeros = [UInt8](repeating: 0, count: d.family == AddressFamily.inet ? 4 : 16)
        return (v.destination?.bytes ?? zeros) == StaticTracking.padded(d)
    }

    /// compare_rule, on what Tandem's rules can hold: the selector, preference and action.
    static func matches(_ ours: Rules.Rule, _ kernel: Rules.Rule) -> Bool {
        guard ours.family == kernel.family, ours.priority == kernel.priority, ours.action == kernel.action,
              ours.invert == kernel.invert, ours.tos == kernel.tos,
              ours.source == kernel.source, ours.source == nil || ours.sourceLength == kernel.sourceLength,
              ours.destination == kernel.destination, ours.destination == nil || ours.destinationLength == kernel.destinationLength,
              ours.fwmark == kernel.fwmark, ours.inputInterface == kernel.inputInterface,
              ours.outputInterface == kernel.outputInterface else { return false }
        // No mask written: the kernel reports the full one, or none.
        if (ours.fwmask ?? UInt32.max) != (kernel.fwmask ?? UInt32.max) && ours.fwmask != kernel.fwmask { return false }
        switch ours.action {
        case .table: return ours.table == kernel.table
        case .goto: return ours.gotoTarget == kernel.gotoTarget
        default: return true
        }
    }
}
