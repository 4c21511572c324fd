#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import Netlink
import VRRP

/// `tandem keepalived`: VRRP instances and sync groups from keepalived.conf on one thread.
/// The protocol is InstanceMachine (pure); this loop owns the sockets, addresses, GARPs
/// and notify scripts.
public final class KeepalivedDaemon {
    public typealias Log = (String) -> Void

    final class Instance {
        let config: KeepalivedConfiguration.Instance
        var machine: InstanceMachine
        let socket: VRRPSocket
        let garp: GratuitousARPSender?
        let source: IPAddress
        let password: [UInt8]?
        let interfaceIndex: UInt32
        var group: Int?
        var garpSecondBurst: UInt64?
        var filter: ReceiveFilter

        init(config: KeepalivedConfiguration.Instance, machine: InstanceMachine, socket: VRRPSocket, garp: GratuitousARPSender?,
             source: IPAddress, password: [UInt8]?, interfaceIndex: UInt32) {
            self.config = config
            self.machine = machine
            self.socket = socket
            self.garp = garp
            self.source = source
            self.password = password
            self.interfaceIndex = interfaceIndex
            let version: Advertisement.Version = config.effectiveVersion == 3 ? .v3 : .v2
            filter = ReceiveFilter(virtualRouterID: UInt8(config.virtualRouterID ?? 0), version: version, password: password,
                                   addresses: config.virtualAddresses.map(\.address),
                                   intervalSeconds: UInt16(max(1, min(255, config.advertisementInterval.rounded()))),
                                   unicast: !config.unicastPeers.isEmpty, ownAddress: source)
        }

        var version: Advertisement.Version { config.effectiveVersion == 3 ? .v3 : .v2 }
        var intervalField: UInt16 {
            version == .v2 ? UInt16(max(1, min(255, config.advertisementInterval.rounded())))
                : UInt16(max(1, min(4095, (config.advertisementInterval * 100).rounded())))
        }
    }

    let configuration: KeepalivedConfiguration
    let log: Log
    let shouldStop: () -> Bool
    var instances: [Instance] = []
    let addresses: InterfaceAddresses
    var children: [pid_t] = []

    /// What a node-level owner (`tandem run`) learns about a sync group or lone instance
    /// changing state, in order, before the members act on it.
    public enum Transition: Sendable {
        /// About to become MASTER: nothing has been added or announced yet.
        case willBecomeMaster(group: String)
        /// Addresses added and the first GARP burst sent.
        case becameMaster(group: String)
        case becameBackup(group: String)
        case becameFault(group: String)
    }
    public var onTransition: ((Transition) -> Void)?
    /// The state each sync group last announced (notify), by group index.
    var groupStates: [Int: InstanceMachine.State] = [:]
    /// The member whose own timer or advert made its unit master.
    var initiator: Instance?

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }

    public init(configuration c: KeepalivedConfiguration, log: @escaping Log, shouldStop: @escaping () -> Bool) throws {
        configuration = c
        self.log = log
        self.shouldStop = shouldStop
        addresses = try InterfaceAddresses()
        for ic in c.instances {
            guard let name = ic.interface, ic.virtualRouterID != nil else {
                throw DaemonError.configuration("vrrp_instance \(ic.name): interface and virtual_router_id are required")
            }
            guard let index = InterfaceAddresses.index(of: name) else { throw DaemonError.unavailable("interface \(name) does not exist") }
            guard let source = ic.unicastSource ?? ic.multicastSource ?? Self.primaryAddress(of: name) else {
                throw DaemonError.unavailable("vrrp_instance \(ic.name): no IPv4 source address on \(name)")
            }
            let multicast = ic.unicastPeers.isEmpty
            let socket: VRRPSocket
            do { socket = try VRRPSocket(interface: name, source: source, multicast: multicast) }
            catch { throw DaemonError.unavailable(error.description) }
            let garp = try? GratuitousARPSender(interface: name)
            let interval = UInt64((ic.advertisementInterval * 1_000_000).rounded())
            let params = InstanceMachine.Parameters(
                version: ic.effectiveVersion == 3 ? .v3 : .v2, priority: UInt8(ic.effectivePriority),
                interval: ic.effectiveVersion == 2 ? max(1_000_000, (interval + 500_000) / 1_000_000 * 1_000_000) : interval,
                preempt: !ic.noPreempt, preemptDelay: UInt64(ic.preemptDelay * 1_000_000), configuredMaster: ic.initialState == "MASTER",
                address: source)
            let password = ic.authenticationType == "PASS" ? Advertisement.passwordData(ic.authenticationPassword ?? "") : nil
            instances.append(Instance(config: ic, machine: InstanceMachine(params), socket: socket, garp: garp, source: source,
                                      password: password, interfaceIndex: index))
        }
        for (gi, g) in c.syncGroups.enumerated() {
            for m in g.members { instances.first { $0.config.name == m }?.group = gi }
        }
    }

    /// The first IPv4 address of an interface.
    static func primaryAddress(of name: String) -> IPAddress? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let e = p {
            if let a = e.pointee.ifa_addr, a.pointee.sa_family == sa_family_t(AF_INET), String(cString: e.pointee.ifa_name) == name {
                let v4 = a.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                return .v4(v4)
            }
            p = e.pointee.ifa_next
        }
        return nil
    }

    // MARK: loop

    public func run() throws {
        start()
        while !shouldStop() {
            let now = Self.now()
            let deadline = nextDeadline
            let wait = deadline == .max ? 200 : Int32(min(200, deadline > now ? (deadline - now) / 1000 + 1 : 0))
            var fds = pollDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), wait)
            service(now: Self.now())
        }
        finish()
    }

    public func start() {
        let start = Self.now()
        for i in instances {
            // Stale VIPs from an earlier run go first, as keepalived does.
            for v in i.config.virtualAddresses { try? addresses.remove(v.address.bytes, prefix: UInt8(v.prefix), interface: vipIndex(i, v)) }
            perform(i, i.machine.start(now: start))
        }
    }

    public var pollDescriptors: [Int32] { instances.map { $0.socket.descriptor } }

    /// When `service` next has timed work (monotonic microseconds; .max = none).
    public var nextDeadline: UInt64 {
        var deadline = UInt64.max
        for i in instances {
            if let d = i.machine.nextDeadline { deadline = min(deadline, d) }
            if let g = i.garpSecondBurst { deadline = min(deadline, g) }
        }
        return deadline
    }

    /// One turn: received adverts, timers, the second GARP burst, finished scripts.
    public func service(now t: UInt64) {
        for i in instances {
            for raw in i.socket.receiveAll() { receive(raw, on: i, now: t) }
            perform(i, i.machine.fire(now: t))
            if let g = i.garpSecondBurst, t >= g {
                i.garpSecondBurst = nil
                announce(i)
            }
        }
        reapChildren()
    }

    /// SIGTERM: masters resign with priority 0 and drop their addresses.
    public func finish() {
        let t = Self.now()
        for i in instances { perform(i, i.machine.shutdown(now: t), following: true) }
        for g in configuration.syncGroups { notifyGroup(g, state: "STOP") }
        for i in instances where !i.filter.counters.isEmpty {
            let text = i.filter.counters.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
            log("(\(i.config.name)) rejected adverts: " + text.joined(separator: " "))
        }
        reapChildren()
    }

    /// Lowers every instance's priority by `amount` (sync-health demotion); 0 restores
    /// the configured priorities. Address owners (255) are never demoted.
    public func demote(by amount: Int) {
        for i in instances {
            let configured = i.config.effectivePriority
            guard configured < 255 else { continue }
            let p = UInt8(max(1, min(254, configured - amount)))
            guard p != i.machine.parameters.priority else { continue }
            i.machine.changePriority(to: p)
            log("(\(i.config.name)) priority \(p)" + (amount > 0 ? " (demoted by \(amount): sync incomplete)" : " (restored)"))
        }
    }

    /// The VRRP side of `tandem status`.
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
        return lines.joined(separator: "\n") + "\n"
    }

    public var states: [String: InstanceMachine.State] {
        Dictionary(uniqueKeysWithValues: instances.map { ($0.config.name, $0.machine.state) })
    }

    func receive(_ raw: [UInt8], on i: Instance, now: UInt64) {
        guard let packet = try? IPPacket.ipv4(raw) else { return }
        let before = i.filter.counters
        guard let advert = i.filter.accept(packet) else {
            // Rejected adverts count as not received (the down timer keeps running).
            if i.filter.counters[.authFailure] != before[.authFailure] { log("(\(i.config.name)) received an invalid passwd!") }
            if i.filter.counters[.addressMismatch] != before[.addressMismatch] {
                log("(\(i.config.name)) received an unexpected ip address list from \(packet.source)")
            }
            return
        }
        let interval: UInt64? = i.version == .v3 ? UInt64(advert.interval) * 10_000 : nil
        perform(i, i.machine.receive(.init(priority: advert.priority, interval: interval, source: packet.source), now: now))
    }

    // MARK: actions

    func perform(_ i: Instance, _ actions: [InstanceMachine.Action], following: Bool = false) {
        for a in actions {
            switch a {
            // The priority may have changed since the action was made (demotion lifted).
            case .sendAdvertisement(let priority): advertise(i, priority: priority == 0 ? 0 : i.machine.parameters.priority)
            case .addAddresses:
                for v in i.config.virtualAddresses {
                    do { try addresses.add(v.address.bytes, prefix: UInt8(v.prefix), interface: vipIndex(i, v), label: v.label) }
                    catch { log("(\(i.config.name)) cannot add \(v.address): \(error)") }
                }
                announce(i)
                i.garpSecondBurst = Self.now() + UInt64(i.config.garpMasterDelay * 1_000_000)
                // The member that moved first adds its addresses last (its siblings followed
                // inside its transition), so the unit is complete here.
                if initiator === i {
                    initiator = nil
                    onTransition?(.becameMaster(group: unitName(of: i)))
                }
            case .removeAddresses:
                i.garpSecondBurst = nil
                for v in i.config.virtualAddresses { try? addresses.remove(v.address.bytes, prefix: UInt8(v.prefix), interface: vipIndex(i, v)) }
            case .transition(let from, let to):
                // The owner hears of a unit's change once, however many members move.
                if !following && (i.group.map { groupStates[$0] != to } ?? true) {
                    switch to {
                    case .master:
                        initiator = i
                        onTransition?(.willBecomeMaster(group: unitName(of: i)))
                    case .backup: onTransition?(.becameBackup(group: unitName(of: i)))
                    case .fault: onTransition?(.becameFault(group: unitName(of: i)))
                    default: break
                    }
                }
                log("(\(i.config.name)) Entering \(to.rawValue) STATE" + (from == .initial ? " (init)" : ""))
                notifyInstance(i, state: to)
                if !following { moveGroup(of: i, to: to) }
            }
        }
    }

    /// Sync groups move together: a member that becomes MASTER takes the others along, a
    /// member that drops to BACKUP or FAULT brings the others down.
    func moveGroup(of i: Instance, to state: InstanceMachine.State) {
        guard let gi = i.group else { return }
        let now = Self.now()
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
        // Members each leave INIT on their own: the group is announced once per change.
        if [.master, .backup, .fault].contains(state), groupStates[gi] != state {
            groupStates[gi] = state
            notifyGroup(configuration.syncGroups[gi], state: state.rawValue)
        }
    }

    /// A sync group's name, or a lone instance's.
    func unitName(of i: Instance) -> String {
        i.group.map { configuration.syncGroups[$0].name } ?? i.config.name
    }

    func advertise(_ i: Instance, priority: UInt8) {
        let advert = Advertisement(version: i.version, virtualRouterID: UInt8(i.config.virtualRouterID ?? 0), priority: priority,
                                   interval: i.intervalField, addresses: i.config.virtualAddresses.map(\.address),
                                   authenticationType: i.password == nil ? 0 : 1,
                                   authenticationData: i.password ?? [UInt8](repeating: 0, count: 8))
        let targets = i.config.unicastPeers.isEmpty ? [Advertisement.groupV4] : i.config.unicastPeers.map(\.address)
        for t in targets {
            do { try i.socket.send(advert.encode(source: i.source, destination: t), to: t) }
            catch { log("(\(i.config.name)) cannot send advert to \(t): \(error)") }
        }
    }

    func announce(_ i: Instance) {
        guard let garp = i.garp else { return }
        for _ in 0..<max(1, i.config.garpMasterRepeat) {
            for v in i.config.virtualAddresses where v.address.family == AddressFamily.inet { try? garp.announce(v.address) }
        }
    }

    func vipIndex(_ i: Instance, _ v: KeepalivedConfiguration.VirtualAddress) -> UInt32 {
        v.device.flatMap(InterfaceAddresses.index(of:)) ?? i.interfaceIndex
    }

    // MARK: notify scripts (spec §3.2): run without blocking the protocol

    func notifyInstance(_ i: Instance, state: InstanceMachine.State) {
        let n = i.config.notify
        let specific: String? = switch state {
        case .master: n.master
        case .backup: n.backup
        case .fault: n.fault
        case .stopped: n.stop
        default: nil
        }
        if let s = specific { spawn(s.split(separator: " ").map(String.init)) }
        if let g = n.generic { spawn(g.split(separator: " ").map(String.init) + ["INSTANCE", i.config.name, state.rawValue, String(i.machine.parameters.priority)]) }
    }

    func notifyGroup(_ g: KeepalivedConfiguration.SyncGroup, state: String) {
        let specific: String? = switch state {
        case "MASTER": g.notify.master
        case "BACKUP": g.notify.backup
        case "FAULT": g.notify.fault
        case "STOP": g.notify.stop
        default: nil
        }
        if let s = specific { spawn(s.split(separator: " ").map(String.init)) }
        if let n = g.notify.generic { spawn(n.split(separator: " ").map(String.init) + ["GROUP", g.name, state, "0"]) }
    }

    /// Programs the owner does the work of itself (`tandem run` and primary-backup.sh):
    /// not run, and said so once.
    public var isHandledInternally: ((String) -> Bool)?
    var skippedScripts: Set<String> = []

    func spawn(_ argv: [String]) {
        guard let program = argv.first else { return }
        if isHandledInternally?(program) == true {
            if skippedScripts.insert(program).inserted {
                log("notify script \(program) not run: its conntrackd steps are done in-process, in order (--run-sync-scripts runs it anyway)")
            }
            return
        }
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        if posix_spawn(&pid, program, nil, nil, &cArgs, environ) == 0 { children.append(pid) }
        else { log("cannot run notify script \(program)") }
    }

    func reapChildren() {
        children.removeAll { pid in
            var status: Int32 = 0
            return waitpid(pid, &status, WNOHANG) == pid
        }
    }
}
