import ConfigParsing
import Conntrack
import VRRP
import IPAddressing
import Netlink
import Timekeeping

/// SIGHUP (spec §3.9): instances that still exist keep their state, counters and sockets;
/// a master stays master, re-advertises at once and only the virtual addresses that
/// changed are touched, so a reload causes no flap. Instances are matched as keepalived
/// matches them, by what identifies a virtual router on the wire, not by name.
extension KeepalivedDaemon {
    static func sameRouter(_ a: KeepalivedConfiguration.Instance, _ b: KeepalivedConfiguration.Instance) -> Bool {
        a.virtualRouterID == b.virtualRouterID && a.interface == b.interface && a.effectiveVersion == b.effectiveVersion
            && a.unicastPeers.isEmpty == b.unicastPeers.isEmpty && a.unicastSource == b.unicastSource
            && a.multicastSource == b.multicastSource && a.unicastTTL == b.unicastTTL
            && a.multicastGroup4 == b.multicastGroup4 && a.multicastGroup6 == b.multicastGroup6
            // A VMAC change moves the instance's sockets: it starts again as a new one.
            && a.vmacName == b.vmacName && a.vmacTransmitBase == b.vmacTransmitBase && a.addressVMACs == b.addressVMACs
            && (a.vmacName == nil || a.vmacAddress == b.vmacAddress)
    }

    public func reload(_ new: KeepalivedConfiguration) {
        let now = Instant.now()
        // The rules already in place stay in their table, as keepalived keeps its own.
        if new.firewall.table != firewall.rules.settings.table {
            log("Cannot change nftables table name at a reload - please restart Keepalived")
        }
        // Spacing first, so what this reload announces is paced by the new one.
        pacer.respace(garpInterval: .microseconds(new.garpInterval), gnaInterval: .microseconds(new.gnaInterval))
        var remaining = instances
        var next: [Instance] = []
        var started: [Instance] = []
        // Each instance's routes as the new file has them; a kept master's change is applied
        // below, as keepalived applies it (the routes gone removed, the new ones added).
        let oldRoutes = routes.byInstance
        routes.byInstance = Self.parsedRoutes(new, log: log)
        if routes.table == nil && !routes.byInstance.isEmpty {
            do { routes.table = try Routes() } catch { log("reload: virtual_routes cannot be installed: no route socket (\(error))") }
        }
        for ic in new.instances {
            if let index = remaining.firstIndex(where: { Self.sameRouter($0.config, ic) }) {
                let i = remaining.remove(at: index)
                let oldAddresses = i.config.virtualAddresses + i.config.excludedAddresses
                let oldRules = i.config.virtualRules
                let oldLines = oldRoutes[i.config.name] ?? []
                i.config = ic
                i.addressInterfaces = ic.trackedInterfaces.filter { InterfaceAddresses.index(of: $0) != nil }
                i.password = Self.password(ic)
                var f = Instance.filter(ic, password: i.password, source: i.source)
                f.inheritCounters(from: i.filter)
                i.filter = f
                if i.machine.state == .master {
                    applyAddressChanges(i, from: oldAddresses)
                    removeRules(oldRules.filter { !ic.virtualRules.contains($0) }, owner: "(\(ic.name)) ")
                    addRules(ic.virtualRules.filter { !oldRules.contains($0) }, owner: "(\(ic.name)) ")
                    let newLines = routes.byInstance[ic.name] ?? []
                    removeRoutes(oldLines.filter { !newLines.contains($0) }, of: i)
                    installRoutes(newLines.filter { !oldLines.contains($0) }, of: i)
                }
                perform(i, i.machine.reconfigure(Self.parameters(ic, source: i.source), now: now), following: true)
                next.append(i)
            } else {
                do {
                    prepareVMAC(ic)
                    let i = try Self.makeInstance(ic)
                    next.append(i)
                    started.append(i)
                } catch {
                    log("reload: vrrp_instance \(ic.name) not started: \(error)")
                }
            }
        }
        // Gone from the configuration: a master resigns and its addresses leave.
        for gone in remaining {
            log("(\(gone.config.name)) removed by reload")
            // Its routes are the old file's: they leave with it.
            let kept = routes.byInstance[gone.config.name]
            routes.byInstance[gone.config.name] = oldRoutes[gone.config.name]
            perform(gone, gone.machine.shutdown(now: now), following: true)
            routes.byInstance[gone.config.name] = kept
        }
        if routes.table == nil && !new.staticRoutes.isEmpty {
            do { routes.table = try Routes() } catch { log("reload: static_routes cannot be installed: no route socket (\(error))") }
        }
        if rules.table == nil && (!new.staticRules.isEmpty || new.instances.contains(where: { !$0.virtualRules.isEmpty })) {
            do { rules.table = try Rules() } catch { log("reload: virtual_rules and static_rules cannot be installed: no rule socket (\(error))") }
        }
        reloadStatics(from: configuration, to: new)
        raisePromoteSecondaries(new)
        let old = configuration
        configuration = new
        retuneProcess(from: old)
        watchStaticDeletions()
        instances = next
        // Queued for an instance the reload removed, or for an address it took away: dropped.
        pacer.retain { a in next.first { ObjectIdentifier($0) == a.owner }.flatMap { queuedAddress(a, of: $0) } != nil }
        assignGroups()
        groupStates = groupStates.filter { $0.key < new.syncGroups.count }
        scripts.reload(new.scripts, now: now)
        trackedFiles = TrackedFiles(new.trackFiles, tracked: new.trackedFileNames, reload: true, log: log)
        trackedProcesses = TrackedProcesses(new.trackProcesses, tracked: new.trackedProcessNames, now: now, log: log)
        refreshLinks()
        reloading = true
        for i in next { evaluateTracking(i); applyPriority(i) }
        reloading = false
        for i in started {
            if let problem = i.setupProblem { actionFailed("GARP socket", problem) }
            removeStaleAddresses(of: i)
            perform(i, i.machine.start(now: now, faulty: !i.faults.isEmpty))
        }
        trackingChanged(now: now)
        if new.fifoWriteStatesOnReload { writeStatesAfterReload(kept: next.filter { k in !started.contains { $0 === k } }) }
        log("Reloaded: \(next.count - started.count) instance(s) kept, \(started.count) added, \(remaining.count) removed")
    }

    /// fifo_write_vrrp_states_on_reload, as keepalived's vrrp_init_state writes them: every
    /// sync group's state, then each kept instance's that is not MASTER (a master carried
    /// across the reload writes nothing there).
    func writeStatesAfterReload(kept: [Instance]) {
        for (gi, g) in configuration.syncGroups.enumerated() {
            if let state = groupStates[gi] { notifyFifo("GROUP", name: g.name, state: state.rawValue, priority: 0) }
        }
        for i in kept where i.machine.state == .backup || i.machine.state == .fault {
            notifyFifo("INSTANCE", name: i.config.name, state: i.machine.state.rawValue, priority: Int(i.machine.parameters.priority))
        }
    }

    /// Removes addresses no longer configured and adds (and announces) the new ones.
    func applyAddressChanges(_ i: Instance, from old: [KeepalivedConfiguration.VirtualAddress]) {
        let new = i.config.virtualAddresses + i.config.excludedAddresses
        for v in old where !new.contains(v) {
            do { try removeAddress(v, interface: vipIndex(i, v)); i.ownRemovals.append(v.address) }
            catch { log("(\(i.config.name)) cannot remove \(v.address): \(error)") }
        }
        let added = new.filter { !old.contains($0) }
        for v in added {
            setAddress(v, of: i)
        }
        // Announced as a transition announces them: GARPs and NAs, on each address's own
        // interface, through the pacer.
        let now = Instant.now()
        for _ in 0..<max(1, i.config.garpMasterRepeat) {
            for v in added where pacer.offer(Announcement(owner: ObjectIdentifier(i), interface: pacingInterface(i, v), address: v.address), now: now) {
                send(v, of: i)
            }
        }
    }
}
