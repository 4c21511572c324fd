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

/// One configured VRRP instance as the loop runs it: its machine, sockets and state.
extension KeepalivedDaemon {
    final class Instance {
        var config: KeepalivedConfiguration.Instance
        var machine: InstanceMachine
        let socket: VRRPSocket
        let garp: GratuitousARPSender?
        /// Senders on the other interfaces its addresses name with `dev`, opened on first use.
        var otherSenders: [String: GratuitousARPSender] = [:]
        let source: IPAddress
        var password: [UInt8]?
        let interfaceIndex: UInt32
        var group: Int?
        /// garp_master_delay: the second bursts owed, one per becoming MASTER. keepalived
        /// never cancels these timers: one that ends while MASTER (again) announces, one
        /// that ends in another state sends nothing.
        var garpSecondBursts: [Instant] = []
        /// garp_master_refresh: the next periodic announcement while MASTER.
        var garpRefresh: Instant?
        /// garp_extra_if: the next announcement on the other interfaces while MASTER.
        var garpExtraDue: Instant?
        var identification: UInt16 = 0
        /// Sync group: its own down timer ran out while a sibling's had not.
        var wantsMaster = false
        var filter: ReceiveFilter
        /// Refused packets are all counted; their log lines are rate-limited per cause and source.
        var refusalLog = LogRateLimit()
        var stats = InstanceStatistics()
        /// Entries into each state since start, by state name: kept apart from `stats`,
        /// which an operator may clear, so the metrics' counters only go up.
        var transitionsInto: [String: Int] = [:]
        /// Names of the tracked items holding this instance in FAULT (empty = healthy).
        var faults: [String] = []
        /// The interfaces its addresses, tracked virtual routes and rules are on that hold it
        /// in FAULT when down (see `KeepalivedConfiguration.Instance.trackedInterfaces`),
        /// those there when the configuration was taken: keepalived drops an address whose
        /// `dev` is missing.
        var addressInterfaces: [String] = []
        /// Addresses a reload took away while MASTER, whose deletion events are its own.
        var ownRemovals: [IPAddress] = []
        /// Addresses the kernel refused when last added (keepalived's `set` left false).
        var refusedAddresses: Set<KeepalivedConfiguration.VirtualAddress> = []
        var trackWeight = 0
        /// What could not be set up (the GARP socket), logged when the instance starts.
        var setupProblem: String?
        /// Wall-clock time of the last state change (for the dumps).
        var lastTransition = InstanceStatistics.wallClock()
        /// For the split-brain watch (`tandem run`): the other router's last accepted advert,
        /// its last claim of MASTER that left us MASTER, and when we last became MASTER.
        var peerAdvert: SplitBrainMonitor.PeerAdvert?
        /// The source of the last advert taken in BACKUP (keepalived's master_saddr).
        var masterSource: IPAddress?
        var lastClaimWhileMaster: Instant?
        var masterSince: Instant?

        init(config: KeepalivedConfiguration.Instance, machine: InstanceMachine, socket: VRRPSocket, garp: GratuitousARPSender?,
             source: IPAddress, password: [UInt8]?, interfaceIndex: UInt32) {
            self.config = config
            self.machine = machine
            self.socket = socket
            self.garp = garp
            self.source = source
            self.password = password
            self.interfaceIndex = interfaceIndex
            filter = Self.filter(config, password: password, source: source)
        }

        static func filter(_ config: KeepalivedConfiguration.Instance, password: [UInt8]?, source: IPAddress) -> ReceiveFilter {
            let version: Advertisement.Version = config.effectiveVersion == 3 ? .v3 : .v2
            var f = ReceiveFilter(virtualRouterID: UInt8(config.virtualRouterID ?? 0), version: version, password: password,
                                  addresses: config.virtualAddresses.map(\.address),
                                  intervalSeconds: UInt16(max(1, min(255, config.advertisementInterval.rounded()))),
                                  unicast: !config.unicastPeers.isEmpty, ownAddress: source)
            f.authenticationHeader = KeepalivedDaemon.usesAH(config)
            if config.checkUnicastSource && !config.unicastPeers.isEmpty { f.permittedSources = Set(config.unicastPeers.map(\.address)) }
            for p in config.unicastPeers where p.minTTL != 0 || p.maxTTL != 255 {
                f.peerTTLs[p.address] = min(p.minTTL, p.maxTTL)...max(p.minTTL, p.maxTTL)
            }
            return f
        }

        var version: Advertisement.Version { config.effectiveVersion == 3 ? .v3 : .v2 }
        var multicastGroup: IPAddress {
            source.family == AddressFamily.inet6 ? config.multicastGroup6 ?? Advertisement.groupV6 : config.multicastGroup4 ?? Advertisement.groupV4
        }
        var virtualRouterID: UInt8 { UInt8(config.virtualRouterID ?? 0) }
        /// The sync group's configuration, when the instance is in one.
        var groupConfig: KeepalivedConfiguration.SyncGroup?
        /// Own interface and VMAC (unless dont_track_primary) plus the instance's and its group's
        /// track_interface items. In a sync group weights count only with
        /// sync_group_tracking_weight, so members keep equal priorities (keepalived).
        var trackedInterfaces: [Tracking.Item] {
            // keepalived's IF_ISUP on a VMAC wants the macvlan up as well as its base: one
            // this run made is up, an earlier run's taken over may not be.
            let own = config.dontTrackPrimary ? [] : ([config.interface ?? ""] + (config.vmacName.map { [$0] } ?? [])).map { Tracking.Item(name: $0) }
            // A route's or rule's on the instance's own interface is in `addressInterfaces`
            // too (it stays tracked with dont_track_primary): once is enough.
            let others = addressInterfaces.filter { name in !own.contains { $0.name == name } }
            return own + others.map { Tracking.Item(name: $0) } + (config.trackInterfaces + (groupConfig?.trackInterfaces ?? [])).map {
                Tracking.Item(name: $0.name, weight: groupConfig.map { $0.trackingWeight } == false ? 0 : $0.weight ?? 0, reverse: $0.reverse)
            }
        }
        var intervalField: UInt16 {
            version == .v2 ? UInt16(max(1, min(255, config.advertisementInterval.rounded())))
                : UInt16(max(1, min(4095, (config.advertisementInterval * 100).rounded())))
        }
    }

    /// The sockets and machine for one configured instance.
    static func makeInstance(_ ic: KeepalivedConfiguration.Instance) throws -> Instance {
        guard let name = ic.interface, ic.virtualRouterID != nil else {
            throw SetupError.configuration("vrrp_instance \(ic.name): interface and virtual_router_id are required")
        }
        // use_vmac: the addresses and GARPs on the macvlan, the adverts too unless
        // vmac_xmit_base; the source address stays the base interface's.
        let home = ic.vmacName ?? name
        let speaking = ic.vmacTransmitBase ? name : home
        guard let index = InterfaceAddresses.index(of: home) else { throw SetupError.unavailable("interface \(home) does not exist") }
        // An IPv6 instance speaks from the interface's link-local address (RFC 5798 §5.1.2.1).
        let ipv6 = (ic.unicastSource ?? ic.virtualAddresses.first?.address)?.family == AddressFamily.inet6
        guard let source = ic.unicastSource ?? ic.multicastSource ?? (ipv6 ? Self.linkLocalAddress(of: name) : Self.primaryAddress(of: name)) else {
            throw SetupError.unavailable("vrrp_instance \(ic.name): no \(ipv6 ? "IPv6 link-local" : "IPv4") source address on \(name)")
        }
        let socket: VRRPSocket
        do {
            socket = try VRRPSocket(interface: speaking, source: source, multicast: ic.unicastPeers.isEmpty, authenticationHeader: usesAH(ic),
                                    unicastTTL: ic.unicastTTL,
                                    group: source.family == AddressFamily.inet6 ? ic.multicastGroup6 : ic.multicastGroup4)
        }
        catch { throw SetupError.unavailable(error.description) }
        var garp: GratuitousARPSender?
        var problem: String?
        do { garp = try GratuitousARPSender(interface: home) } catch {
            // The instance still runs; its addresses are then not announced (said at start).
            problem = "(\(ic.name)) no GARP / NA socket on \(home) (\(error)): its addresses will not be announced"
        }
        if let own = ic.unicastSource, !interfaceAddresses(of: name, family: own.family == AddressFamily.inet6 ? AF_INET6 : AF_INET).contains(own) {
            // Not refused: the address may be added later (keepalived also runs), but peers
            // filtering on it would ignore this router, so it is said at start.
            let line = ic.unicastSourceLocation.map { "\($0): " } ?? ""
            problem = [problem, "\(line)(\(ic.name)) unicast_src_ip \(own) is not an address of \(name)"].compactMap { $0 }.joined(separator: "; ")
        }
        let i = Instance(config: ic, machine: InstanceMachine(parameters(ic, source: source)), socket: socket, garp: garp, source: source,
                         password: password(ic), interfaceIndex: index)
        i.setupProblem = problem
        i.addressInterfaces = ic.trackedInterfaces.filter { InterfaceAddresses.index(of: $0) != nil }
        return i
    }

    static func parameters(_ ic: KeepalivedConfiguration.Instance, source: IPAddress) -> InstanceMachine.Parameters {
        // keepalived rounds the interval to whole seconds (v2) or centiseconds (v3), in µs.
        let us = Int64((ic.advertisementInterval * 1_000_000).rounded())
        let rounded: Int64 = ic.effectiveVersion == 2 ? max(1_000_000, (us + 500_000) / 1_000_000 * 1_000_000)
            : max(10_000, (us + 5_000) / 10_000 * 10_000)
        return InstanceMachine.Parameters(
            version: ic.effectiveVersion == 3 ? .v3 : .v2, priority: UInt8(ic.effectivePriority),
            interval: .microseconds(rounded),
            preempt: !ic.noPreempt, preemptDelay: .seconds(ic.preemptDelay), configuredMaster: ic.initialState == "MASTER",
            address: source, downTimerAdverts: UInt64(ic.downTimerAdverts), lowerPriorityNoAdvert: ic.lowerPriorityNoAdvert,
            higherPriorityAdvert: ic.higherPriorityAdvert, lowerPriorityGARPRepeat: ic.garpLowerPriorityRepeat,
            lowerPriorityGARPDelay: .seconds(ic.garpLowerPriorityDelay))
    }

    /// The PASS password or the AH key: both are the password NUL-padded to 8 bytes.
    static func password(_ ic: KeepalivedConfiguration.Instance) -> [UInt8]? {
        ["PASS", "AH"].contains(ic.authenticationType) && ic.effectiveVersion == 2 ? Advertisement.passwordData(ic.authenticationPassword ?? "") : nil
    }

    static func usesAH(_ ic: KeepalivedConfiguration.Instance) -> Bool {
        ic.authenticationType == "AH" && ic.effectiveVersion == 2 && ic.virtualAddresses.first?.address.family != AddressFamily.inet6
    }

    func assignGroups() {
        for i in instances { i.group = nil; i.groupConfig = nil }
        for (gi, g) in configuration.syncGroups.enumerated() {
            for m in g.members {
                guard let i = instances.first(where: { $0.config.name == m }) else { continue }
                i.group = gi
                i.groupConfig = g
            }
        }
    }

    /// The first IPv4 address of an interface.
    static func primaryAddress(of name: String) -> IPAddress? {
        interfaceAddresses(of: name, family: AF_INET).first
    }

    /// The interface's first link-local IPv6 address (fe80::/10).
    static func linkLocalAddress(of name: String) -> IPAddress? {
        interfaceAddresses(of: name, family: AF_INET6).first { $0.bytes[0] == 0xfe && $0.bytes[1] & 0xc0 == 0x80 }
    }

    public static func interfaceAddresses(of name: String, family: Int32) -> [IPAddress] {
        var found: [IPAddress] = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let e = p {
            if let a = e.pointee.ifa_addr, a.pointee.sa_family == sa_family_t(family), String(cString: e.pointee.ifa_name) == name {
                if family == AF_INET {
                    found.append(.v4(a.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }))
                } else if let v6 = a.withMemoryRebound(to: sockaddr_in6.self, capacity: 1, { p in
                    withUnsafeBytes(of: p.pointee.sin6_addr) { IPAddress(bytes: ArraySlice($0)) }
                }) {
                    found.append(v6)
                }
            }
            p = e.pointee.ifa_next
        }
        return found
    }
}
