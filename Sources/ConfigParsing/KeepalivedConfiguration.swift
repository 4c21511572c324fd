import IPAddressing

/// keepalived.conf (the VRRP part) as a value, with keepalived 2.2's defaults.
public struct KeepalivedConfiguration: Hashable, Sendable {
    public struct VirtualAddress: Hashable, Sendable {
        public var address: IPAddress
        public var prefix: Int
        public var device: String?
        /// `brd`/`broadcast` (IPv4 only): IFA_BROADCAST, as written or worked out from
        /// `+` / `-`; nil: none, as keepalived adds it.
        public var broadcast: IPAddress?
        /// `peer`: a point-to-point address; the kernel gets it as IFA_ADDRESS, the address
        /// itself as IFA_LOCAL, and the prefix is the peer's (always a host one).
        public var peer: IPAddress?
        /// `home`, `mngtmpaddr`, `noprefixroute`, `autojoin` as written.
        public var flags: AddressFlags = []
        public var scope: String?
        public var label: String?
        /// `-nodad`: the kernel runs duplicate address detection on the IPv6 address, which
        /// keepalived otherwise turns off (IFA_F_NODAD) so a taken-over VIP is usable at once.
        public var detectsDuplicates = false
        /// `preferred_lft SECONDS|forever` as written; nil: not written.
        public var preferredLifetime: UInt32?
        /// A static address's `track_group` (a group defined above it): its instances track
        /// the address's interface. Never set on a virtual address.
        public var trackGroup: String?

        /// The lifetime value that means forever (INFINITY_LIFE_TIME).
        public static let forever = UInt32.max

        /// The IPv6 preferred lifetime the address is added with, nil for none (forever):
        /// as written, else keepalived's old default that deprecates a /128 (RFC 3484) so it
        /// is not picked as a source address. IPv4 addresses ignore it, as in keepalived.
        public var kernelPreferredLifetime: UInt32? {
            guard address.family == AddressFamily.inet6 else { return nil }
            let lifetime = preferredLifetime ?? (prefix == 128 ? 0 : Self.forever)
            return lifetime == Self.forever ? nil : lifetime
        }

        /// `no_track`: the interface the address is on does not hold the instance in
        /// FAULT when it goes down (keepalived does not track it for the address).
        public var noTrack = false

        /// The address's own `use_vmac` as written (keepalived's per-address use_vmac_addr):
        /// it goes on a macvlan of its interface even without use_vmac_addr.
        public var useVMAC = false
        /// Where `use_vmac` was written, for the errors said once the instance is complete;
        /// not part of the address's identity (a reload compares addresses).
        public var useVMACAt = UnweighedLocation()

        /// use_vmac_addr: the macvlan of `device` the address is added on (nil: `device`
        /// itself, or the instance's interface).
        public var vmacDevice: String?

        /// IFA_F_NODAD: every IPv6 address unless written `-nodad`.
        public var addedWithoutDAD: Bool { address.family == AddressFamily.inet6 && !detectsDuplicates }

        /// The IFA_FLAGS keepalived's netlink_ipaddress adds the address with.
        public var kernelFlags: AddressFlags { addedWithoutDAD ? flags.union(.noDAD) : flags }

        /// iproute2's scope names (rt_scopes) keepalived knows without the file.
        public static let scopeNames: [String: UInt8] = ["global": 0, "nowhere": 255, "host": 254, "link": 253, "site": 200]

        /// The ifaddrmsg scope: a name from `scopeNames` or a number; global without one.
        public var scopeNumber: UInt8 { scope.flatMap { Self.scopeNames[$0] ?? UInt8($0) } ?? 0 }

        public init(address: IPAddress, prefix: Int, device: String? = nil, broadcast: IPAddress? = nil, scope: String? = nil, label: String? = nil) {
            self.address = address
            self.prefix = prefix
            self.device = device
            self.broadcast = broadcast
            self.scope = scope
            self.label = label
        }
    }

    /// A source location that every other one equals: carried along for messages
    /// without making two otherwise equal values differ.
    public struct UnweighedLocation: Hashable, Sendable {
        public var location: SourceLocation?
        public init(_ location: SourceLocation? = nil) { self.location = location }
        public static func == (_: Self, _: Self) -> Bool { true }
        public func hash(into hasher: inout Hasher) {}
    }

    /// keepalived's vrrp_complete_instance on a VMAC name a link already has.
    public enum ExistingVMAC: Hashable, Sendable {
        /// A private macvlan on the instance's interface with the VRRP MAC (an earlier
        /// run's): used as it is, and removed at exit like one made.
        case matching
        /// A macvlan of the configured name on another interface or with another MAC:
        /// deleted and made again.
        case incompatible
    }

    public struct AddressVMAC: Hashable, Sendable {
        public var name: String
        public var base: String
        /// Its addresses' family: an IPv6 one carries 00:00:5e:00:02:VRID and a link-local.
        public var family: UInt8
        public init(name: String, base: String, family: UInt8 = AddressFamily.inet) {
            self.name = name
            self.base = base
            self.family = family
        }
    }

    public struct UnicastPeer: Hashable, Sendable {
        public var address: IPAddress
        /// min_ttl / max_ttl: the TTLs its adverts may arrive with (keepalived's defaults 0 and 255).
        public var minTTL: UInt8 = 0
        public var maxTTL: UInt8 = 255
    }

    public struct Tracked: Hashable, Sendable {
        public var name: String
        /// nil: the item's own weight (a vrrp_script's) or unweighted.
        public var weight: Int?
        public var reverse = false
        public init(name: String, weight: Int? = nil, reverse: Bool = false) {
            self.name = name
            self.weight = weight
            self.reverse = reverse
        }
    }

    public struct Notify: Hashable, Sendable {
        public init() {}
        public var master: String?
        public var backup: String?
        public var fault: String?
        public var stop: String?
        public var generic: String?
        /// notify_master_rx_lower_pri (instances only): run, without arguments, each time a
        /// MASTER hears a lower priority's advert.
        public var masterRxLowerPriority: String?
        /// Who each command runs as: the words after it, else the file's default script
        /// user (set when the file has been read; a command without an entry is not run).
        public var runAs: [Slot: ScriptUser] = [:]

        public enum Slot: String, Hashable, Sendable, CaseIterable {
            case backup = "notify_backup", master = "notify_master", fault = "notify_fault", stop = "notify_stop", generic = "notify"
            case masterRxLowerPriority = "notify_master_rx_lower_pri"
        }

        public subscript(slot: Slot) -> String? {
            get {
                switch slot {
                case .master: master
                case .backup: backup
                case .fault: fault
                case .stop: stop
                case .generic: generic
                case .masterRxLowerPriority: masterRxLowerPriority
                }
            }
            set {
                switch slot {
                case .master: master = newValue
                case .backup: backup = newValue
                case .fault: fault = newValue
                case .stop: stop = newValue
                case .generic: generic = newValue
                case .masterRxLowerPriority: masterRxLowerPriority = newValue
                }
                if newValue == nil { runAs[slot] = nil }
            }
        }

        /// Whether any command is configured.
        public var isEmpty: Bool { Slot.allCases.allSatisfy { self[$0] == nil } }
    }

    public struct Instance: Hashable, Sendable {
        public var name: String
        public var location: SourceLocation
        /// As configured; keepalived starts a `state MASTER` instance as BACKUP anyway.
        public var initialState: String = "BACKUP"
        public var interface: String?
        public var virtualRouterID: Int?
        public var priority: Int?
        /// Seconds (microsecond resolution).
        public var advertisementInterval: Double = 1
        public var version: Int?
        /// global_defs' vrrp_version, for an instance that sets none.
        public var defaultVersion = 2
        public var authenticationType: String?
        public var authenticationPassword: String?
        public var unicastSource: IPAddress?
        /// Where unicast_src_ip was written, for errors found once the host is looked at.
        public var unicastSourceLocation: SourceLocation?
        public var unicastPeers: [UnicastPeer] = []
        public var multicastSource: IPAddress?
        public var virtualAddresses: [VirtualAddress] = []
        public var virtualRoutes: [[String]] = []
        /// virtual_ipaddress_excluded, and the virtual addresses past what an advert can
        /// carry: installed and announced with the others, never advertised or checked.
        public var excludedAddresses: [VirtualAddress] = []
        /// virtual_rules: FIB rules added on becoming MASTER, removed on leaving it.
        public var virtualRules: [VirtualRule] = []
        /// The interfaces of the static addresses, routes (`dev`) and rules (`iif`) whose
        /// track_group has this instance (keepalived's TRACK_SADDR / SROUTE / SRULE, no
        /// weight: down is FAULT), the instance's own included, as keepalived adds them.
        public var staticTrackedInterfaces: [String] = []
        public var noPreempt = false
        public var preemptDelay: Double = 0
        public var garpMasterDelay: Double = 5
        public var garpMasterRepeat = 5
        public var garpMasterRefresh: Double = 0
        public var garpMasterRefreshRepeat = 1
        public var trackInterfaces: [Tracked] = []
        public var trackScripts: [Tracked] = []
        /// track_file entries, their weight and reverse already resolved against the file.
        public var trackFiles: [Tracked] = []
        public var trackProcesses: [Tracked] = []
        /// The instance's own interface going down is not a fault.
        public var dontTrackPrimary = false
        /// promote_secondaries: the interface's sysctl of that name is turned on while the
        /// daemon runs (see KeepalivedDaemon+PromoteSecondaries); dropped on a use_vmac instance.
        public var promoteSecondaries = false
        public var promoteSecondariesLocation: SourceLocation?
        /// The interfaces keepalived's vrrp_complete_instance tracks for the instance's
        /// addresses (TRACK_ADDR, no weight: down is FAULT): each one an address is on,
        /// unless written `no_track`; the instance's own (and its VMAC) only as the
        /// instance's interface, so not at all with dont_track_primary.
        public var addressInterfaces: [String] {
            var names: [String] = []
            for a in virtualAddresses + excludedAddresses where !a.noTrack {
                guard let name = a.vmacDevice ?? a.device, name != interface, name != vmacName, !names.contains(name) else { continue }
                names.append(name)
            }
            return names
        }
        /// What keepalived's vrrp_complete_instance tracks besides (TRACK_ROUTE, TRACK_RULE,
        /// no weight: down is FAULT): the interface of each tracked virtual route (one with
        /// its `dev`, not `no_track`) and the iif / oif of each tracked virtual rule. Unlike
        /// an address's, a route's or rule's interface is tracked even when it is the
        /// instance's own: with dont_track_primary such a route or rule still puts the
        /// instance in FAULT when that interface goes down (measured beside keepalived:
        /// KeepalivedRouteTrackingTests.dontTrackPrimaryLeavesARouteOnTheOwnInterfaceTracked).
        public var trackedInterfaces: [String] {
            var names = addressInterfaces
            // A route that does not parse is never installed, and is logged where routes are
            // installed (`KeepalivedDaemon.parsedRoutes`); it has no interface to track here.
            let routeDevices = virtualRoutes.compactMap { try? VirtualRoute($0) }.filter(\.tracked).compactMap(\.device)
            let ruleDevices = virtualRules.filter(\.tracked).flatMap { [$0.inputInterface, $0.outputInterface].compactMap { $0 } }
            for name in routeDevices + ruleDevices + staticTrackedInterfaces where !names.contains(name) {
                names.append(name)
            }
            return names
        }
        /// skip_check_adv_addr (or global_defs' vrrp_skip_check_adv_addr before the
        /// instance): in BACKUP, adverts from the master last heard skip the address checks.
        public var skipCheckAdvertAddresses = false
        /// check_unicast_src (or global_defs' vrrp_check_unicast_src): unicast adverts only
        /// from the listed peers.
        public var checkUnicastSource = false
        /// unicast_ttl: the TTL of the unicast adverts sent.
        public var unicastTTL: UInt8 = 255
        /// The global vrrp_mcast_group4/6, set once the file is read.
        public var multicastGroup4: IPAddress?
        public var multicastGroup6: IPAddress?
        public var notify = Notify()
        /// strict_mode as written (nil: global_defs' vrrp_strict decides), and where.
        public var strictMode: Bool?
        public var strictModeLocation: SourceLocation?
        /// `accept` / `no_accept` written; keepalived's default is accept unless strict (owners always).
        public var accept: Bool?
        /// use_vmac: the macvlan keepalived puts the instance on ("" until resolved to
        /// keepalived's default vrrp.VRID), nil without use_vmac; and vmac_xmit_base.
        public var vmacName: String?
        public var vmacTransmitBase = false
        public var vmacLocation: SourceLocation?
        /// A link of the VMAC's name there already when the file was read, and what
        /// keepalived does with it; nil: none, the VMAC is made.
        public var existingVMAC: ExistingVMAC?
        /// use_vmac_addr's macvlans that an earlier run left (private, on the address's
        /// interface, the VRRP MAC): taken over as they are, as keepalived's if_get_by_vmac.
        public var existingAddressVMACs: Set<String> = []
        /// The instance's family: its first VIP's, else its unicast source's, else IPv4.
        public var family: UInt8 {
            virtualAddresses.first?.address.family ?? unicastSource?.family ?? AddressFamily.inet
        }
        /// use_vmac's MAC address when one is written: six octets, or five that the VRID
        /// completes (keepalived 2.2.7's VRRP_VMAC_MAC_USE_VRID).
        public var vmacOwnMAC: [UInt8]?
        /// The MAC the VMAC takes: use_vmac's own when written, else the VRRP MAC,
        /// 00:00:5e:00:01:VRID, or 00:00:5e:00:02:VRID on an IPv6 instance (RFC 5798 §7.3).
        /// keepalived gives use_vmac_addr's macvlans the same one.
        public var vmacAddress: [UInt8] { vmacAddress(for: family) }
        public func vmacAddress(for f: UInt8) -> [UInt8] {
            let vrid = UInt8(truncatingIfNeeded: virtualRouterID ?? 0)
            if let own = vmacOwnMAC { return own.count == 6 ? own : own + [vrid] }
            return [0x00, 0x00, 0x5e, 0x00, f == AddressFamily.inet6 ? 0x02 : 0x01, vrid]
        }
        /// use_vmac_addr: an address off the instance's own VMAC or interface (another
        /// `dev`, the other family) goes on a macvlan of its own interface.
        /// notify_priority_changes as written; once the file is read, resolved from the sync
        /// group's, else global_defs' vrrp_notify_priority_changes.
        public var notifyPriorityChanges: Bool?
        public var vmacForAddresses = false
        public var vmacForAddressesLocation: SourceLocation?
        /// The macvlans use_vmac_addr makes: name and the interface under it, in order.
        public var addressVMACs: [AddressVMAC] {
            var seen: [AddressVMAC] = []
            for v in virtualAddresses + excludedAddresses {
                guard let name = v.vmacDevice, let base = v.device else { continue }
                let m = AddressVMAC(name: name, base: base, family: v.address.family)
                if !seen.contains(m) { seen.append(m) }
            }
            return seen
        }
        /// Where `no_accept` was written, for the refusals that point at it.
        public var noAcceptLocation: SourceLocation?
        /// Resolved once the file is read: a master that is not the address owner drops
        /// traffic to and from its addresses through the nftables set (keepalived's
        /// non-accept mode).
        public var dropsTrafficAsMaster = false
        /// keepalived's resolved accept mode (what its dumps show): `accept` / `no_accept`
        /// as written, else on unless strict mode keeps it for the owner alone.
        public var acceptMode = true
        /// lower_prio_no_advert (strict mode's default): a master hearing a lower priority
        /// does not answer it with an advert of its own.
        public var lowerPriorityNoAdvert = false
        /// higher_prio_send_advert: a master overruled by a higher priority sends one advert
        /// before it steps down.
        public var higherPriorityAdvert = false
        /// garp_lower_prio_repeat / garp_lower_prio_delay: what a master hearing a lower
        /// priority announces, at once and again after the delay (whole seconds). Unset, the
        /// global vrrp_garp_lower_prio_*, themselves by default vrrp_garp_master_repeat /
        /// vrrp_garp_master_delay; strict mode: neither.
        public var garpLowerPriorityRepeat = 5
        public var garpLowerPriorityDelay = 5
        /// down_timer_adverts (by default global_defs' vrrp_down_timer_adverts, as it stood
        /// when the instance began): adverts missed before a backup takes over.
        public var downTimerAdverts = 3
        /// garp_extra_if (or global_defs' vrrp_garp_extra_if): while MASTER, every this many
        /// seconds one GARP / NA per other interface its addresses name with `dev`. Once the
        /// file is read it is 0 unless `all` was given and such an interface exists
        /// (keepalived's other case, per-address VMACs, is not built).
        public var garpExtraInterval: Int?
        public var garpExtraAll = false

        /// keepalived: 255 when `state MASTER` leaves the priority unset, else 100.
        public var effectivePriority: Int { priority ?? (initialState == "MASTER" ? 255 : 100) }
        /// IPv6 virtual addresses imply version 3.
        public var effectiveVersion: Int {
            version ?? (virtualAddresses.first?.address.family == AddressFamily.inet6 ? 3 : defaultVersion)
        }
    }

    /// A top-level `track_group NAME { group { VI_1 … } }`: the instances that follow the
    /// interfaces of the static addresses, routes and rules naming it.
    public struct StaticTrackGroup: Hashable, Sendable {
        public var name: String
        /// nil: no `group` block (keepalived drops the group at start).
        public var members: [String]?
        public var location: SourceLocation
        public init(name: String, location: SourceLocation) {
            self.name = name
            self.location = location
        }
    }

    public struct SyncGroup: Hashable, Sendable {
        public var name: String
        public var members: [String] = []
        public var notify = Notify()
        /// Group-level tracking applies to every member.
        public var trackInterfaces: [Tracked] = []
        public var trackScripts: [Tracked] = []
        public var trackFiles: [Tracked] = []
        public var trackProcesses: [Tracked] = []
        /// keepalived drops members' tracking weights (failures become FAULTs) unless set.
        public var trackingWeight = false
        /// notify_priority_changes for its members that do not set their own.
        public var notifyPriorityChanges: Bool?
    }

    public struct Script: Hashable, Sendable {
        public var name: String
        public var command: String?
        public var interval: Double = 1
        public var timeout: Double?
        public var weight: Int = 0
        public var rise = 1
        public var fall = 1
        public var reverse = false
        public var initFail = false
        /// `user USER [GROUP]`, else the file's default script user once the file is read.
        public var user: ScriptUser?
    }

    /// A top-level track_file (or vrrp_track_file): a file holding an integer that,
    /// times the weight, is added to the priority of the instances tracking it.
    public struct TrackFile: Hashable, Sendable {
        public var name: String
        public var path: String?
        public var weight = 1
        public var reverse = false
        /// init_file: the value written when the file is missing at start (or always,
        /// with `overwrite`, except on a reload).
        public var initValue: Int?
        public var overwrite = false
        public init(name: String) { self.name = name }
    }

    /// A vrrp_track_process: how many running processes match, against a quorum.
    public struct TrackProcess: Hashable, Sendable {
        public enum ParameterMatch: String, Hashable, Sendable {
            /// Only the name (or argv[0] with full_command) is compared.
            case none
            /// The arguments are exactly the configured ones.
            case exact
            /// The configured arguments are the first ones, the last possibly cut short.
            case initial
            /// The configured arguments are the first ones, each whole.
            case partial
        }
        public var name: String
        public var process: String?
        public var parameters: [String] = []
        public var parameterMatch = ParameterMatch.none
        /// Compare argv[0] from /proc/PID/cmdline rather than the 15-character comm.
        public var fullCommand = false
        public var weight = 0
        public var reverse = false
        public var quorum = 1
        public var quorumMax = Int(UInt32.max)
        /// Seconds the quorum must hold after it is gained / lost before it counts.
        public var forkDelay: Double = 0
        public var terminateDelay: Double = 0
        public init(name: String) { self.name = name }
    }

    public var file: String
    public var routerID: String?
    public var vrrpVersion = 2
    /// global_defs' vrrp_check_unicast_src: check_unicast_src for every instance.
    public var checkUnicastSource = false
    /// vrrp_skip_check_adv_addr: the default of the instances read after it.
    public var skipCheckAdvertAddresses = false
    /// vrrp_mcast_group4 / vrrp_mcast_group6: the groups adverts go to instead of 224.0.0.18 / ff02::12.
    public var multicastGroup4: IPAddress?
    public var multicastGroup6: IPAddress?
    /// global_defs' vrrp_strict: strict_mode for every instance that sets none.
    public var strict = false
    /// global_defs' nftables, nftables_priority, nftables_counters (and vrrp_iptables,
    /// which Debian's nftables-only keepalived maps onto nftables).
    public var firewall = FirewallSettings()
    /// net_namespace: the network namespace (/run/netns/NAME) the daemon runs in.
    public var netNamespace: String?
    public var netNamespaceLocation: SourceLocation?
    public var notifyFifo: String?
    /// Started with the FIFO's path as its last argument, to read the events.
    public var notifyFifoScript: String?
    public var enableScriptSecurity = false
    /// Who notify_fifo_script runs as (the words after it, else the default script user).
    public var notifyFifoScriptUser: ScriptUser?
    public var instances: [Instance] = []
    public var syncGroups: [SyncGroup] = []
    public var staticTrackGroups: [StaticTrackGroup] = []
    public var scripts: [Script] = []
    public var trackFiles: [TrackFile] = []
    public var trackProcesses: [TrackProcess] = []
    /// global_defs' vrrp_garp_master_*: the GARP settings of the instances that follow.
    public struct GARPDefaults: Hashable, Sendable {
        public var delay: Double = 5
        public var repeats = 5
        public var refresh: Double = 0
        public var refreshRepeats = 1
        /// vrrp_garp_lower_prio_delay / _repeat as written (whole seconds, a count).
        public var lowerPriorityDelay: Int?
        public var lowerPriorityRepeat: Int?
        public var lowerPriorityNoAdvert = false
        public var higherPriorityAdvert = false
        public var downTimerAdverts = 3
    }
    public var garpDefaults = GARPDefaults()
    /// vrrp_garp_interval / vrrp_gna_interval in microseconds (0: none): the least time
    /// between two GARPs (NAs) on one interface, whichever instance sends them. keepalived
    /// gives every interface its instances use this spacing once the whole file is read.
    public var garpInterval = 0
    public var gnaInterval = 0
    /// vmac_prefix / vmac_addr_prefix: what VMAC names start with instead of `vrrp`
    /// (an instance's own VMAC; use_vmac_addr's, which take vmac_prefix without the other).
    public var vmacPrefix: String?
    public var vmacAddressPrefix: String?
    /// vrrp_notify_priority_changes: a change of an instance's effective priority is
    /// written to the notify FIFO (MASTER_PRIORITY / BACKUP_PRIORITY).
    public var notifyPriorityChanges = false
    /// fifo_write_vrrp_states_on_reload: a reload writes to the notify FIFO the states it
    /// did not change.
    public var fifoWriteStatesOnReload = false
    /// log_unknown_vrids: an advert for a VRID no instance on that interface has is logged.
    public var logUnknownVRIDs = false
    /// vrrp_garp_extra_if: the default of every instance's garp_extra_if (seconds, 0: none).
    public var garpExtraInterval = 0
    public var garpExtraAll = false
    /// static_ipaddress / static_routes / static_rules: installed at start whatever the
    /// VRRP state, removed at stop (keepalived also clears an earlier run's first).
    public var staticAddresses: [VirtualAddress] = []
    public var staticRoutes: [VirtualRoute] = []
    public var staticRules: [VirtualRule] = []
    /// vrrp_startup_delay: seconds the instances wait at start before they may become MASTER.
    public var startupDelay: Double = 0
    /// vrrp_priority: the process's nice value (-20...19).
    public var processPriority: Int32?
    /// global_defs' umask: the file-creation mask, unless the command line gave one.
    public var fileMask: UInt32?
    /// default_interface: where a static address without `dev` goes (else eth0).
    public var defaultInterface: String?
    /// vrrp_no_swap: the process locked in memory (mlockall), as keepalived's VRRP process.
    public var lockedInMemory = false
    /// vrrp_cpu_affinity: the CPUs the VRRP loop's thread may run on; empty: any.
    public var cpuAffinity: [Int] = []
    public var warnings: [ConfigWarning] = []
    /// What keepalived reports as a configuration error (its `-t` exits 5) and then works
    /// around and runs with: Tandem does the same, at start too.
    public var toleratedErrors: [ConfigError] = []
    /// Keywords and options Tandem refuses (file:line:column, "not supported"): `-t` fails
    /// and the daemons do not start.
    public var unsupported: [ConfigError] = []
    /// Configuration errors keepalived logs (and works around) and `-t` reports.
    public var errors: [ConfigError] = []

    public init(file: String) { self.file = file }

    /// The vrrp_track_processes some instance or sync group tracks.
    public var trackedProcessNames: Set<String> {
        Set(instances.flatMap { $0.trackProcesses.map(\.name) } + syncGroups.flatMap { $0.trackProcesses.map(\.name) })
    }

    /// The track_files some instance or sync group tracks (keepalived forgets the rest).
    public var trackedFileNames: Set<String> {
        Set(instances.flatMap { $0.trackFiles.map(\.name) } + syncGroups.flatMap { $0.trackFiles.map(\.name) })
    }
}

/// Where non-accept mode puts its drop rules: keepalived 2.2.7's nftables table (a table
/// named by `nftables`, default "keepalived"; base chains at `nftables_priority`, -1 being
/// one step before the filter priority; `nftables_counters` adds a counter to each rule).
public struct FirewallSettings: Sendable, Hashable {
    public var table = "keepalived"
    public var chainPriority: Int32 = -1
    public var counters = false
    /// Whether global_defs named the firewall (else keepalived says it chose nftables).
    public var configured = false
    /// nftables_ifindex: IPv6 link-local addresses always by interface index, never by name.
    public var linkLocalByIndex = false
    public init() {}
}
