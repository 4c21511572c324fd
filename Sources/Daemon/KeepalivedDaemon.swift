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

/// `tandem keepalived`: VRRP instances and sync groups from keepalived.conf on one thread.
/// The protocol is InstanceMachine (pure); this loop owns the sockets, addresses, GARPs
/// and notify scripts.
public final class KeepalivedDaemon {

    var configuration: KeepalivedConfiguration
    let log: (String) -> Void
    let shouldStop: () -> Bool
    var instances: [Instance] = []
    let addresses: InterfaceAddresses
    var routes = VirtualRoutes()
    var rules = HostRules()
    /// Non-accept mode's nftables drop set (KeepalivedDaemon+Firewall).
    var firewall: FirewallState
    /// use_vmac's macvlans (KeepalivedDaemon+VMAC).
    var vmacs = VMACLinks()
    /// The interfaces promote_secondaries turned on (KeepalivedDaemon+PromoteSecondaries).
    var promotion = SecondaryPromotion()
    /// Tracked interfaces' link states, and the rtnetlink socket that reports them.
    var links: TrackedLinks
    var scripts: ScriptRunner
    /// The track_files' values, watched through inotify.
    var trackedFiles: TrackedFiles
    /// The vrrp_track_processes' quorums, from /proc.
    var trackedProcesses: TrackedProcesses
    /// Sync-health demotion from a node-level owner (`tandem run`), on top of tracking.
    var demotion = 0
    var groupStates: [Int: InstanceMachine.State] = [:]
    var fifo: NotifyFifo?
    /// Host actions that failed, by action (see `actionFailed`).
    var actionFailures: [String: Int] = [:]
    /// vrrp_garp_interval / vrrp_gna_interval: GARPs and NAs spaced per interface.
    /// Entries are owned by the instance object, whatever a reload renames it to.
    var pacer: AnnouncementPacer<ObjectIdentifier>
    var programs = NotifyPrograms()
    /// Inside `reload`: keepalived applies priorities to its reloaded instances before it
    /// gives them back their state, so a change then is a BACKUP_PRIORITY notice.
    var reloading = false
    /// `--metrics-listen` (`tandem keepalived`): copies the figures for the HTTP side between turns.
    public var metrics: MetricsFeed?
    /// `tandem keepalived`'s control socket (`tandem status`). nil under `tandem run`,
    /// whose replication half answers for both on conntrackd.conf's socket.
    public var control: ControlServer?
    /// keepalived's -V (--dont-release-vrrp) when false: see `finish()`.
    public var releaseOnStop = true
    /// Control clients that failed or asked what this mode cannot answer.
    var controlCounters = StatusDocument.Control(localReadFailed: 0, localUnknownRequest: 0)
    let startedAt = Instant.now()
    /// Programs the owner does the work of itself (`tandem run` and primary-backup.sh):
    /// not run, and said so once.
    public var isHandledInternally: ((String) -> Bool)? {
        get { programs.handledInternally }
        set { programs.handledInternally = newValue }
    }

    /// A sync group's or lone instance's change of state, as a node-level owner (`tandem
    /// run`) takes them from `takeTransitions()`, once per unit and in order.
    public enum Transition: Sendable, Equatable {
        /// The unit is MASTER. Its members' first adverts, addresses, routes and GARP wait
        /// until the owner calls `announceUnit(_:)`.
        case master(unit: String)
        case backup(unit: String)
        case fault(unit: String)
    }

    /// Set by a node-level owner: transitions are queued for it, and a new master's
    /// announcements are held until it has done what must come first (the commit).
    public var ownedByNode: Bool {
        get { handOff.owned }
        set { handOff.owned = newValue }
    }
    var handOff = NodeHandOff()

    /// What a node-level owner has not yet taken: transitions, and held announcements.
    struct NodeHandOff {
        var owned = false
        var transitions: [Transition] = []
        /// Per unit becoming MASTER under an owner: each member's actions after its transition.
        var held: [String: [(Instance, [InstanceMachine.Action])]] = [:]
    }

    public func takeTransitions() -> [Transition] {
        defer { handOff.transitions.removeAll() }
        return handOff.transitions
    }

    public var hasTransitions: Bool { !handOff.transitions.isEmpty }

    /// Lets a held unit announce itself: each member's first advert, addresses, routes and
    /// GARP, in the order the members moved. false when nothing was held (the unit left
    /// MASTER before this).
    public func announceUnit(_ unit: String) -> Bool {
        guard let members = handOff.held.removeValue(forKey: unit), !members.isEmpty else { return false }
        for (i, rest) in members { perform(i, rest, following: true) }
        return true
    }

    public init(configuration c: KeepalivedConfiguration, logger: Logger, shouldStop: @escaping () -> Bool) throws {
        configuration = c
        let log: (String) -> Void = { logger.notice("\($0)") }
        self.log = log
        self.shouldStop = shouldStop
        addresses = try InterfaceAddresses()
        firewall = FirewallState(rules: VIPFirewall(c.firewall))
        pacer = Self.pacer(c)
        routes.byInstance = Self.parsedRoutes(c, log: log)
        if !routes.byInstance.isEmpty || !c.staticRoutes.isEmpty {
            do { routes.table = try Routes() } catch { log("virtual_routes cannot be installed: no route socket (\(error))") }
        }
        if !c.staticRules.isEmpty || c.instances.contains(where: { !$0.virtualRules.isEmpty }) {
            do { rules.table = try Rules() } catch { log("virtual_rules and static_rules cannot be installed: no rule socket (\(error))") }
        }
        do { links = TrackedLinks(monitor: try LinkMonitor()) } catch {
            links = TrackedLinks(monitor: nil)
            log("no link event socket (\(error)): tracked interfaces are read at start and on reload only")
        }
        scripts = ScriptRunner(c.scripts, now: Instant.now(), log: log)
        trackedFiles = TrackedFiles(c.trackFiles, tracked: c.trackedFileNames, reload: false, log: log)
        trackedProcesses = TrackedProcesses(c.trackProcesses, tracked: c.trackedProcessNames, now: Instant.now(), log: log)
        if links.monitor == nil { log("cannot watch link state over rtnetlink; track_interface follows the start-up state only") }
        if let path = c.notifyFifo {
            // A FIFO that cannot be made is reported; VRRP runs without it, as keepalived does.
            do { fifo = try NotifyFifo(path: path) } catch { log("\(error)") }
        }
        for ic in c.instances {
            prepareVMAC(ic)
            instances.append(try Self.makeInstance(ic))
        }
        assignGroups()
    }

    // MARK: loop

    /// `onReady` runs once every instance has started (systemd's READY=1); `afterTurn`
    /// after every turn (the owner's signal handling and watchdog).
    public func run(onReady: () -> Void = {}, afterTurn: () -> Void = {}) {
        start()
        onReady()
        while !shouldStop() {
            let wait = Int32(min(200, Instant.now().remaining(until: nextDeadline).millisecondsRoundedUp))
            var fds = pollDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), wait)
            service(now: Instant.now())
            afterTurn()
            metrics?.service(now: Instant.now()) { $0.vrrp = vrrpFigures() }
        }
        finish()
    }

    public func start() {
        let start = Instant.now()
        tuneProcess()
        raisePromoteSecondaries(configuration)
        installStatics()
        watchStaticDeletions()
        if configuration.startupDelay > 0 {
            log("Delaying startup for \(Self.number(configuration.startupDelay)) seconds")
            for i in instances { i.machine.delayedStart = start + .seconds(configuration.startupDelay) }
        }
        if let fifo, let script = configuration.notifyFifoScript {
            fifo.reader = spawn(ScriptCommand.argv(script) + [fifo.path], as: configuration.notifyFifoScriptUser)
        }
        refreshLinks()
        for i in instances { evaluateTracking(i) }
        // A sync group starts in FAULT as a whole when any member does.
        for i in instances where !i.faults.isEmpty {
            for other in instances where other.group != nil && other.group == i.group && other.faults.isEmpty { other.faults = ["sync group"] }
        }
        for i in instances {
            // Stale VIPs from an earlier run go first, as keepalived does.
            removeStaleAddresses(of: i)
            if let problem = i.setupProblem { actionFailed("GARP socket", problem) }
            if !i.faults.isEmpty { log("(\(i.config.name)) entering FAULT state (\(i.faults.joined(separator: ", ")) down)") }
            perform(i, i.machine.start(now: start, faulty: !i.faults.isEmpty))
        }
    }

    public var pollDescriptors: [Int32] {
        instances.map { $0.socket.descriptor } + (links.monitor.map { [$0.descriptor] } ?? []) + (trackedFiles.descriptor.map { [$0] } ?? [])
            + (control?.descriptors ?? [])
    }

    /// When `service` next has timed work (`.never`: none).
    public var nextDeadline: Instant {
        var deadline = Instant.never
        for i in instances {
            if let d = i.machine.nextDeadline { deadline = min(deadline, d) }
            if let g = i.garpSecondBursts.min() { deadline = min(deadline, g) }
            if let g = i.garpRefresh { deadline = min(deadline, g) }
            if let g = i.garpExtraDue { deadline = min(deadline, g) }
        }
        if let p = pacer.nextDeadline { deadline = min(deadline, p) }
        return min(deadline, scripts.nextDeadline, trackedProcesses.nextDeadline)
    }

    /// One turn: received adverts, timers, the second GARP burst, finished scripts.
    public func service(now t: Instant) {
        handleControl(now: t)
        if let monitor = links.monitor {
            let events = monitor.drain()
            if monitor.overrun { refreshLinks() }
            // Up after being seen down (or deleted): keepalived's interface_up.
            var cameUp: [String] = []
            let watched = events.isEmpty ? [] : interfacesInstancesFollow
            for e in events where links.up[e.name] != e.up {
                if e.up && links.up[e.name] == false { cameUp.append(e.name) }
                links.up[e.name] = e.up
                if watched.contains(e.name) { log("Netlink reports \(e.name) \(e.up ? "up" : "down")") }
            }
            if !events.isEmpty || monitor.overrun { trackingChanged(now: t) }
            addressesDeleted(monitor.deletedAddresses, now: t)
            for name in cameUp { reinstateStatics(on: name) }
            staticRoutesDeleted(monitor.deletedRoutes)
            staticRulesDeleted(families: monitor.deletedRuleFamilies)
            virtualRoutesDeleted(monitor.deletedRoutes, rules: monitor.deletedRules, now: t)
        }
        if !scripts.service(now: t).isEmpty { trackingChanged(now: t) }
        if trackedFiles.drain() { trackingChanged(now: t) }
        if trackedProcesses.service(now: t) { trackingChanged(now: t) }
        for i in instances {
            for packet in i.socket.receivePackets() { receive(packet, on: i, now: t) }
            if i.machine.masterDownExpired(now: t), !groupMayBecomeMaster(i, now: t) {
                i.machine.holdBackup(now: t)
                continue
            }
            perform(i, i.machine.fire(now: t))
            if let g = i.garpRefresh, t >= g {
                // Switches that age out their tables between elections keep the VIPs.
                i.garpRefresh = t + .seconds(i.config.garpMasterRefresh)
                announce(i, repeats: i.config.garpMasterRefreshRepeat)
            }
            if let g = i.garpExtraDue, t >= g {
                i.garpExtraDue = t + .seconds(i.config.garpExtraInterval ?? 0)
                announceOnOtherInterfaces(i)
            }
            let due = i.garpSecondBursts.filter { $0 <= t }.count
            i.garpSecondBursts.removeAll { $0 <= t }
            if i.machine.state == .master { for _ in 0..<due { announce(i) } }
        }
        sendQueuedAnnouncements(now: t)
        reapChildren()
    }

    /// Called from inside a long job of the node's loop (`ConntrackdDaemon.keepUp`): each
    /// MASTER sends the advert that has fallen due, and each BACKUP reads the adverts
    /// that came, so its down timer counts from the master's last advert and not from
    /// the job's end (a master that died during a backup's dump of a million flows
    /// would leave the addresses down for the dump's length as well). A BACKUP's
    /// `receive` has no actions; a MASTER's could demote it mid-job, so a master's
    /// adverts wait for the turn. A unit whose announcement is still held (its
    /// promotion's commit) stays silent: its first advert comes with its addresses.
    /// `readsAdverts` false is the tests' control (TANDEM_TEST_NO_BUSY_ADVERT_READ).
    public func keepUp(now t: Instant, readsAdverts: Bool = true) {
        for i in instances {
            switch i.machine.state {
            case .master where !handOff.held.values.contains(where: { $0.contains { $0.0 === i } }):
                if let advert = i.machine.dueAdvertisement(now: t) { perform(i, [advert]) }
            case .backup where readsAdverts:
                for packet in i.socket.receivePackets() { receive(packet, on: i, now: t) }
            default: break
            }
        }
    }

    /// SIGTERM: masters resign with priority 0 and drop their addresses (unless
    /// `releaseOnStop` is off: keepalived's -V leaves a master's addresses, routes, rules
    /// and VMAC in place and sends no priority 0; the statics and the firewall table go).
    public func finish() {
        let t = Instant.now()
        scripts.stopAll()
        for i in instances {
            var actions = i.machine.shutdown(now: t)
            if !releaseOnStop { actions.removeAll { $0 == .removeAddresses || $0 == .sendAdvertisement(priority: 0) } }
            perform(i, actions, following: true)
        }
        for g in configuration.syncGroups { notifyGroup(g, state: "STOP") }
        if let fifo {
            if fifo.dropped > 0 { log("notify_fifo \(fifo.path): \(fifo.dropped) events lost (no reader, or it fell behind)") }
            // The reader gets the STOP lines, then end-of-file; one still running a second
            // later is ended with SIGTERM, as keepalived ends its own.
            fifo.finishWriting()
            if let pid = fifo.reader {
                var status: Int32 = 0
                var exited = false
                for _ in 0..<100 where !exited {
                    exited = waitpid(pid, &status, WNOHANG) == pid
                    if !exited { usleep(10_000) }
                }
                if !exited { kill(pid, SIGTERM) }
            }
        }
        for i in instances where !i.filter.counters.isEmpty {
            log("(\(i.config.name)) rejected adverts: " + rejectionSummary(i))
        }
        if releaseOnStop {
            removeVMACs()
            lowerPromoteSecondaries()
        }
        removeFirewall()
        clearStatics()
        reapChildren()
    }

    func rejectionSummary(_ i: Instance) -> String {
        i.filter.counters.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
    }

    /// Lowers every instance's priority by `amount` (sync-health demotion) on top of what
    /// tracking makes of it; 0 lifts it. Address owners (255) are never demoted.
    public func demote(by amount: Int) {
        guard amount != demotion else { return }
        demotion = amount
        for i in instances {
            if applyPriority(i) {
                log("(\(i.config.name)) priority \(i.machine.parameters.priority)"
                    + (amount > 0 ? " (demoted by \(amount): sync incomplete)" : " (restored)"))
            }
        }
    }

    /// Sets the machine's priority from base, tracking weights and demotion; true if it moved.
    @discardableResult
    func applyPriority(_ i: Instance) -> Bool {
        let p = Tracking.effectivePriority(base: i.config.effectivePriority, weight: i.trackWeight, demotion: demotion)
        guard p != i.machine.parameters.priority else { return false }
        i.machine.changePriority(to: p)
        // notify_priority_changes: keepalived's send_instance_priority_notifies.
        if i.config.notifyPriorityChanges ?? configuration.notifyPriorityChanges {
            let master = i.machine.state == .master && !reloading
            notifyFifo("INSTANCE", name: i.config.name, state: master ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", priority: Int(p))
        }
        return true
    }

    public func statusReport() -> String {
        var lines = ["vrrp:"]
        for i in instances {
            let configured = i.config.effectivePriority
            let p = Int(i.machine.parameters.priority)
            var line = "  \(i.config.name): \(i.machine.state.rawValue) on \(i.config.interface ?? "?"), priority \(p)"
            if p != configured { line += " (configured \(configured))" }
            if let g = i.group { line += ", group \(configuration.syncGroups[g].name)" }
            let rejected = i.filter.counters.values.reduce(0, +)
            if rejected > 0 { line += ", \(rejected) adverts rejected" }
            lines.append(line)
        }
        if let failures = actionFailuresText { lines.append("  host actions failed: \(failures)") }
        return lines.joined(separator: "\n") + "\n"
    }

    public var states: [String: InstanceMachine.State] {
        Dictionary(uniqueKeysWithValues: instances.map { ($0.config.name, $0.machine.state) })
    }

    /// Each instance as the split-brain watch reads it.
    var splitBrainViews: [SplitBrainMonitor.InstanceView] {
        instances.map { i in
            SplitBrainMonitor.InstanceView(name: i.config.name, isMaster: i.machine.state == .master, masterSince: i.masterSince,
                                           masterDownInterval: i.machine.masterDownInterval, peerAdvert: i.peerAdvert,
                                           lastClaimWhileMaster: i.lastClaimWhileMaster, priority: i.machine.parameters.priority,
                                           preempts: i.machine.parameters.preempt)
        }
    }

    /// What each instance advertises now: base priority, tracking weights and demotion.
    public var priorities: [String: UInt8] {
        Dictionary(uniqueKeysWithValues: instances.map { ($0.config.name, $0.machine.parameters.priority) })
    }

    func receive(_ received: Result<IPPacket, VRRPPacketError>, on i: Instance, now: Instant) {
        let packet: IPPacket
        do { packet = try received.get() } catch {
            i.filter.countMalformed()
            if let more = i.refusalLog.admit("malformed \(error)", now: now) { log("(\(i.config.name)) dropped a malformed packet: \(error)\(more)") }
            return
        }
        // INIT and FAULT ignore adverts without counting them (keepalived step 3).
        guard i.machine.state == .backup || i.machine.state == .master else { return }
        // Every raw socket on an interface sees every VRID: a sibling's adverts are not ours to count.
        let message = packet.vrrpMessage
        if message.count > 1, message[1] != i.virtualRouterID,
           instances.contains(where: { $0 !== i && $0.interfaceIndex == i.interfaceIndex && $0.virtualRouterID == message[1] }) {
            return
        }
        let before = i.filter.counters
        let backup = i.machine.state == .backup
        // skip_check_adv_addr: the master this BACKUP last heard is not checked again.
        let checkAddresses = !(i.config.skipCheckAdvertAddresses && backup && i.masterSource == packet.source)
        guard let advert = i.filter.accept(packet, checkAddresses: checkAddresses) else {
            // Rejected adverts count as not received (the down timer keeps running).
            if i.filter.counters[.authFailure] != before[.authFailure], let more = i.refusalLog.admit("passwd \(packet.source)", now: now) {
                log("(\(i.config.name)) received an invalid passwd!\(more)")
            }
            if i.filter.counters[.addressMismatch] != before[.addressMismatch], let more = i.refusalLog.admit("addresses \(packet.source)", now: now) {
                log("(\(i.config.name)) received an unexpected ip address list from \(packet.source)\(more)")
            }
            if i.filter.counters[.unknownVRID] != before[.unknownVRID], configuration.logUnknownVRIDs {
                // keepalived's line, once per advert: its instances on an interface share one socket.
                if instances.first(where: { $0.interfaceIndex == i.interfaceIndex }) === i, message.count > 1 {
                    let heardOn = i.config.vmacTransmitBase ? i.config.interface : i.config.vmacName ?? i.config.interface
                    log("Unknown VRID(\(message[1])) received on interface(\(heardOn ?? "?")). ignoring...")
                }
                return
            }
            for r in ReceiveFilter.Rejection.allCases where ![.authFailure, .addressMismatch, .ownPacket].contains(r)
                && i.filter.counters[r] != before[r] {
                if let more = i.refusalLog.admit("\(r.rawValue) \(packet.source)", now: now) {
                    log("(\(i.config.name)) ignored an advert from \(packet.source): \(r.rawValue)\(more)")
                }
            }
            return
        }
        let interval: Duration? = i.version == .v3 ? .milliseconds(10 * Int64(advert.interval)) : nil
        // keepalived's master_saddr: every advert a BACKUP takes, but a priority 0's.
        if backup && advert.priority != 0 { i.masterSource = packet.source }
        let deadline = i.machine.masterDownDeadline
        let wasMaster = i.machine.state == .master
        perform(i, i.machine.receive(.init(priority: advert.priority, interval: interval, source: packet.source), now: now))
        i.peerAdvert = .init(at: now, priority: advert.priority, source: "\(packet.source)")
        if wasMaster && i.machine.state == .master && advert.priority != 0 { i.lastClaimWhileMaster = now }
        // An accepted master's advert restarts the timer: this member no longer wants MASTER.
        if i.machine.masterDownDeadline != deadline && advert.priority != 0 { i.wantsMaster = false }
    }

    // MARK: actions

    func perform(_ i: Instance, _ actions: [InstanceMachine.Action], following: Bool = false) {
        for (index, a) in actions.enumerated() {
            switch a {
            // The priority may have changed since the action was made (demotion lifted).
            case .sendAdvertisement(let priority): advertise(i, priority: priority == 0 ? 0 : i.machine.parameters.priority)
            case .addAddresses:
                setDropRule(of: i)
                for v in i.config.virtualAddresses + i.config.excludedAddresses {
                    // IPv6 VIPs skip DAD unless told otherwise: the old master has just released them,
                    // and a tentative address could neither answer nor be announced.
                    setAddress(v, of: i)
                }
                installRoutes(of: i)
                installRules(of: i)
                announce(i)
                // garp_master_delay 0: no second burst at all (keepalived starts no timer).
                if i.config.garpMasterDelay > 0 { i.garpSecondBursts.append(Instant.now() + .seconds(i.config.garpMasterDelay)) }
                i.garpRefresh = i.config.garpMasterRefresh > 0 ? Instant.now() + .seconds(i.config.garpMasterRefresh) : nil
                i.garpExtraDue = (i.config.garpExtraInterval ?? 0) > 0 ? Instant.now() + .seconds(i.config.garpExtraInterval ?? 0) : nil
            case .announce(let repeats): announce(i, repeats: repeats)
            case .heardLowerPriority(let priority):
                log("(\(i.config.name)) Received advert with lower priority \(priority), ours \(i.machine.parameters.priority)"
                    + (i.machine.parameters.lowerPriorityNoAdvert ? "" : ", forcing new election"))
                // The group's other masters refresh the neighbours' caches for their addresses too.
                let now = Instant.now()
                for other in instances where other !== i && other.group != nil && other.group == i.group {
                    perform(other, other.machine.siblingHeardLowerPriority(now: now), following: true)
                }
                notifyLowerPriorityHeard(i)
            case .removeAddresses:
                i.garpRefresh = nil
                i.garpExtraDue = nil
                // Queued, paced announcements leave with the addresses (keepalived empties
                // its delayed ARP list); the delayed bursts' timers run on.
                pacer.drop(ObjectIdentifier(i))
                removeRules(of: i)
                removeRoutes(of: i)
                removeAddresses(of: i)
                removeDropRule(of: i)
            case .transition(let from, let to):
                i.lastTransition = InstanceStatistics.wallClock()
                i.masterSince = to == .master ? Instant.now() : nil
                i.transitionsInto[to.rawValue, default: 0] += 1
                if to == .master { i.stats.becameMaster += 1 }
                if from == .master { i.stats.releasedMaster += 1 }
                let unit = unitName(of: i)
                // A member leaving MASTER before its unit announced itself announces nothing.
                if from == .master { handOff.held[unit]?.removeAll { $0.0 === i } }
                // The owner hears of a unit's change once, however many members move.
                if handOff.owned && !following && (i.group.map { groupStates[$0] != to } ?? true) {
                    switch to {
                    case .master: handOff.transitions.append(.master(unit: unit))
                    case .backup: handOff.transitions.append(.backup(unit: unit))
                    case .fault: handOff.transitions.append(.fault(unit: unit))
                    default: break
                    }
                }
                log("(\(i.config.name)) Entering \(to.rawValue) STATE" + (from == .initial ? " (init)" : ""))
                notifyInstance(i, state: to)
                if !following { moveGroup(of: i, to: to) }
                // Under an owner, what a new master does next waits for its word.
                if to == .master && handOff.owned {
                    handOff.held[unit, default: []].append((i, Array(actions[(index + 1)...])))
                    return
                }
            }
        }
    }

    /// Sync groups move together: a member that becomes MASTER takes the others along, a
    /// member that drops to BACKUP or FAULT brings the others down.
    func moveGroup(of i: Instance, to state: InstanceMachine.State) {
        guard let gi = i.group else { return }
        let now = Instant.now()
        for other in instances where other !== i && other.group == gi && other.machine.state != state {
            switch state {
            case .master where other.machine.state == .backup:
                perform(other, other.machine.forceMaster(now: now), following: true)
            case .backup where other.machine.state == .master:
                perform(other, other.machine.forceBackup(now: now), following: true)
            case .fault:
                perform(other, other.machine.fault(now: now), following: true)
            default: break
            }
        }
        // The group notifies once per change of its own state, not once per member.
        if [.master, .backup, .fault].contains(state), groupStates[gi] != state {
            groupStates[gi] = state
            notifyGroup(configuration.syncGroups[gi], state: state.rawValue)
        }
    }

    /// keepalived's sync-group rule (spec §3.1): a member whose timer ran out goes MASTER
    /// only when its group already is, or every sibling's timer has run out too; one
    /// sibling still hearing a master holds the whole group in BACKUP.
    func groupMayBecomeMaster(_ i: Instance, now: Instant) -> Bool {
        guard let g = i.group, groupStates[g] != .master else { return true }
        i.wantsMaster = true
        let siblings = instances.filter { $0 !== i && $0.group == g }
        let unanimous = siblings.allSatisfy { $0.wantsMaster || $0.machine.masterDownExpired(now: now) || $0.machine.state == .master }
        if unanimous {
            for m in siblings + [i] { m.wantsMaster = false }
        } else {
            log("(\(i.config.name)) down timer expired, but sync group \(configuration.syncGroups[g].name) is not ready: staying BACKUP")
        }
        return unanimous
    }

    /// A sync group's name, or a lone instance's.
    func unitName(of i: Instance) -> String {
        i.group.map { configuration.syncGroups[$0].name } ?? i.config.name
    }
}
