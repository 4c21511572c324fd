#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import Netlink
import VRRP
import IPAddressing
import LinkIO
import Logging
import Timekeeping

/// Tracked interfaces and scripts (spec §2.6, §2.10): faults and priority weights.
extension KeepalivedDaemon {
    // MARK: tracking (spec §2.6, §2.10)

    func refreshLinks() {
        var names = Set<String>()
        for i in instances { for t in i.trackedInterfaces { names.insert(t.name) } }
        // The statics' interfaces too: their coming up again puts the statics back.
        names.formUnion(configuration.staticAddresses.compactMap(\.device) + configuration.staticRoutes.compactMap(\.device))
        for n in names { links.up[n] = LinkMonitor.isUp(n) }
    }

    /// The interfaces whose going up or down keepalived 2.2.7 logs ("Netlink reports"):
    /// those some instance follows (its tracking_vrrp list): its own interface, even with
    /// dont_track_primary, its VMAC, track_interface, and the devices of its addresses and
    /// tracked routes and rules. A static address's interface, or one nothing uses, is
    /// not logged (measured beside keepalived: KeepalivedLinkLogTests).
    var interfacesInstancesFollow: Set<String> {
        var names = Set<String>()
        for i in instances {
            names.formUnion(i.trackedInterfaces.map(\.name))
            if let own = i.config.interface { names.insert(own) }
            if let vmac = i.config.vmacName { names.insert(vmac) }
        }
        return names
    }

    /// Faults and weights from the current link and script states; priority applied.
    func evaluateTracking(_ i: Instance) {
        let interfaces = Tracking.evaluate(i.trackedInterfaces) { self.links.up[$0] ?? LinkMonitor.isUp($0) }
        let items = (i.config.trackScripts + (i.groupConfig?.trackScripts ?? [])).map { t in
            let s = configuration.scripts.first { $0.name == t.name }
            let weight = i.groupConfig.map { $0.trackingWeight } == false ? 0 : t.weight ?? s?.weight ?? 0
            return Tracking.Item(name: t.name, weight: weight, reverse: t.reverse || (s?.reverse ?? false))
        }
        let checks = Tracking.evaluate(items) { self.scripts.status($0) }
        let files = evaluateTrackedFiles(i)
        let processes = evaluateTrackedProcesses(i)
        i.faults = interfaces.faults + checks.faults + files.faults + processes.faults
        let weight = interfaces.weight + checks.weight + files.weight + processes.weight
        if weight != i.trackWeight {
            i.trackWeight = weight
            if applyPriority(i) { log("(\(i.config.name)) Changing effective priority to \(i.machine.parameters.priority)") }
        }
    }

    /// The instance's and its sync group's track_files: a file in FAULT, or its offset.
    /// In a sync group without sync_group_tracking_weight, weights are dropped as for
    /// scripts (a non-zero value is then a fault).
    func evaluateTrackedFiles(_ i: Instance) -> (faults: [String], weight: Int) {
        var faults: [String] = []
        var weight = 0
        let unweighted = i.groupConfig.map { $0.trackingWeight } == false
        for t in i.config.trackFiles + (i.groupConfig?.trackFiles ?? []) {
            // A file keepalived dropped (its directory missing) tracks nothing.
            guard let value = trackedFiles.value(t.name) else { continue }
            switch TrackedFileValue.effect(value: value, weight: unweighted ? 0 : t.weight ?? 1, reverse: t.reverse) {
            case .fault: faults.append("track file \(t.name)")
            case .offset(let o): weight += o
            }
        }
        return (faults, weight)
    }

    /// The instance's and its sync group's vrrp_track_processes (keepalived's
    /// vrrp_track.c): unweighted, a lost quorum is a fault (a held one, with reverse);
    /// weighted, a positive weight counts while the quorum holds and a negative one while
    /// it does not, negated by reverse.
    func evaluateTrackedProcesses(_ i: Instance) -> (faults: [String], weight: Int) {
        var faults: [String] = []
        var weight = 0
        let unweighted = i.groupConfig.map { $0.trackingWeight } == false
        for t in i.config.trackProcesses + (i.groupConfig?.trackProcesses ?? []) {
            guard let have = trackedProcesses.haveQuorum(t.name) else { continue }
            let w = unweighted ? 0 : t.weight ?? 0
            let sign = t.reverse ? -1 : 1
            if w == 0 {
                if have == t.reverse { faults.append("track process \(t.name)") }
            } else if have == (w > 0) {
                weight += w * sign
            }
        }
        return (faults, weight)
    }

    /// A link or script changed: faults enter FAULT (the sync group follows); a unit whose
    /// last fault cleared goes back through BACKUP.
    func trackingChanged(now: Instant) {
        for i in instances { evaluateTracking(i) }
        for i in instances where !i.faults.isEmpty && [.backup, .master].contains(i.machine.state) {
            log("(\(i.config.name)) entering FAULT state (\(i.faults.joined(separator: ", ")) down)")
            perform(i, i.machine.fault(now: now))
        }
        for i in instances where i.machine.state == .fault && i.faults.isEmpty {
            let unit = i.group.map { g in instances.filter { $0.group == g } } ?? [i]
            guard unit.allSatisfy({ $0.faults.isEmpty }) else { continue }
            for (n, member) in unit.enumerated() where member.machine.state == .fault {
                perform(member, member.machine.recover(now: now), following: n > 0)
            }
        }
    }

    /// The VRRP side of `tandem status`.
}
