/// The VRRP half of `tandem status --json`, with each instance's priority taken apart:
/// "why is this node not master" is answered by the base, the tracking weights and the
/// sync-health demotion side by side.
extension KeepalivedDaemon {
    func statusDocument() -> StatusDocument.VRRP {
        StatusDocument.VRRP(syncDemotion: demotion, hostActionFailures: actionFailures, instances: instances.map { i in
            let base = i.config.effectivePriority
            return StatusDocument.Instance(
                name: i.config.name, state: i.machine.state.rawValue, interface: i.config.interface,
                syncGroup: i.group.map { configuration.syncGroups[$0].name }, basePriority: base,
                effectivePriority: Int(i.machine.parameters.priority), trackWeight: i.trackWeight,
                // An address owner (255) is never lowered: the demotion does not apply to it.
                syncDemotion: base >= 255 ? 0 : demotion,
                faults: i.faults, advertsRejected: i.filter.counters.values.reduce(0, +))
        })
    }

    /// The VRRP side of a metrics snapshot: the document above, and per instance what it
    /// sums up (rejections by reason) or leaves out (state code, adverts sent, transitions).
    func vrrpFigures() -> VRRPFigures {
        var extras: [String: VRRPFigures.InstanceFigures] = [:]
        for i in instances {
            extras[i.config.name] = VRRPFigures.InstanceFigures(
                stateCode: KeepalivedDaemon.stateCode(i.machine.state), advertsSent: i.stats.sent,
                rejected: Dictionary(uniqueKeysWithValues: i.filter.counters.map { ($0.key.rawValue, $0.value) }),
                transitions: i.transitionsInto)
        }
        return VRRPFigures(document: statusDocument(), instances: extras)
    }
}
