import ConfigParsing
import IPAddressing

/// Which static_ipaddress, static_routes and static_rules keepalived 2.2.7 puts back, and
/// when (vrrp_static_track.c, keepalived_netlink.c's route and rule filters):
/// - an interface coming up (made again after a deletion, or brought up by hand) gets
///   back its static addresses and the static routes naming it as their device, unless
///   written `no_track` (static_track_group_reinstate_config, from interface_up);
/// - a static route or rule deleted (RTM_DELROUTE / RTM_DELRULE of protocol 18) is added
///   again unless `no_track`, but keepalived hears such deletions only for a family in
///   which some vrrp_instance tracks a virtual route (one with its device) or a virtual
///   rule, or some static route or rule of the family names a track_group: it joins the
///   route or rule group of that family then and only then (vrrp_complete_instance,
///   process_static_entries).
/// Rules are never put back on an interface coming up: the kernel keeps them.
struct StaticTracking {
    let addresses: [KeepalivedConfiguration.VirtualAddress]
    let routes: [VirtualRoute]
    let rules: [VirtualRule]
    /// What the reflector listens to, from the instances' virtual routes and rules.
    let watch: LinkMonitor.RouteWatch

    init(_ c: KeepalivedConfiguration, virtualRoutes: [VirtualRoute]) {
        addresses = c.staticAddresses
        routes = c.staticRoutes
        rules = c.staticRules
        // A static route or rule naming a track_group joins its family's group too
        // (process_static_entries), no_track or not.
        watch = LinkMonitor.RouteWatch(
            routes: Set(virtualRoutes.filter(\.tracked).map(\.family) + c.staticRoutes.filter { $0.trackGroup != nil }.map(\.family)),
            rules: Set(c.instances.flatMap(\.virtualRules).filter(\.tracked).map(\.family) + c.staticRules.filter { $0.trackGroup != nil }.map(\.family)))
    }

    /// The static addresses and routes to add again when `interface` comes up.
    func comingUp(_ interface: String) -> (addresses: [KeepalivedConfiguration.VirtualAddress], routes: [VirtualRoute]) {
        (addresses.filter { !$0.noTrack && $0.device == interface }, routes.filter { $0.tracked && $0.device == interface })
    }

    /// The static routes a deletion took: keepalived's route_is_ours compares table,
    /// family, destination and its prefix length, and TOS (which Tandem's routes leave 0).
    func deleted(_ d: LinkMonitor.DeletedRoute) -> [VirtualRoute] {
        guard watch.routes.contains(d.family), d.tos == 0 else { return [] }
        return routes.filter { r in
            r.tracked && r.family == d.family && (r.table ?? Self.mainTable) == d.table && UInt8(r.prefix) == d.prefix
                && (r.destination?.bytes ?? [UInt8](repeating: 0, count: d.family == AddressFamily.inet ? 4 : 16)) == Self.padded(d)
        }
    }

    /// The static rules to try again after a rule of `family` was deleted: every tracked
    /// one of that family; those still there are refused as duplicates (EEXIST), so only
    /// the deleted one goes back in.
    func rulesToRetry(family: UInt8) -> [VirtualRule] {
        guard watch.rules.contains(family) else { return [] }
        return rules.filter { $0.tracked && $0.family == family }
    }

    static let mainTable: UInt32 = 254

    /// A default route comes without RTA_DST: all zeros, as keepalived reads it.
    static func padded(_ d: LinkMonitor.DeletedRoute) -> [UInt8] {
        d.destination.isEmpty ? [UInt8](repeating: 0, count: d.family == AddressFamily.inet ? 4 : 16) : d.destination
    }
}
