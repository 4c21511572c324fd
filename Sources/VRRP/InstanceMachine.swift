import IPAddressing
import Timekeeping

/// One VRRP instance as keepalived 2.2 runs it (spec §2), as a pure state machine:
/// fed adverts, faults and the time, it returns actions. No sockets, no
/// clock of its own.
public struct InstanceMachine: Sendable {
    public enum State: String, Sendable { case initial = "INIT", backup = "BACKUP", master = "MASTER", fault = "FAULT", stopped = "STOP" }

    public struct Parameters: Hashable, Sendable {
        public var version: Advertisement.Version
        /// The effective priority (1–255); 255 = address owner.
        public var priority: UInt8
        /// Own advertisement interval.
        public var interval: Duration
        public var preempt: Bool
        /// Counted from the first lower-priority advert heard as BACKUP: while it runs a
        /// lower-priority master is still accepted (keepalived's preempt_delay).
        public var preemptDelay: Duration
        /// `state MASTER` in the configuration.
        public var configuredMaster: Bool
        /// This instance's source address, for the equal-priority tie-break.
        public var address: IPAddress
        public var downTimerAdverts: UInt64
        /// RFC behaviour when a lower-priority master is heard (`lower_prio_no_advert`).
        public var lowerPriorityNoAdvert: Bool
        /// `higher_prio_send_advert`: a master overruled by a higher priority (or an equal
        /// one from a higher address) first sends one advert of its own, then steps down.
        public var higherPriorityAdvert: Bool
        /// `garp_lower_prio_repeat`: a master hearing a lower-priority advert announces its
        /// addresses this many times (0: not at all) ...
        public var lowerPriorityGARPRepeat: Int
        /// ... and, when this is more than zero, once more after `garp_lower_prio_delay`.
        public var lowerPriorityGARPDelay: Duration

        public init(version: Advertisement.Version = .v2, priority: UInt8 = 100, interval: Duration = .seconds(1), preempt: Bool = true,
                    preemptDelay: Duration = .zero, configuredMaster: Bool = false, address: IPAddress,
                    downTimerAdverts: UInt64 = 3, lowerPriorityNoAdvert: Bool = false, higherPriorityAdvert: Bool = false,
                    lowerPriorityGARPRepeat: Int = 0, lowerPriorityGARPDelay: Duration = .zero) {
            self.version = version
            self.priority = priority
            self.interval = interval
            self.preempt = preempt
            self.preemptDelay = preemptDelay
            self.configuredMaster = configuredMaster
            self.address = address
            self.downTimerAdverts = downTimerAdverts
            self.lowerPriorityNoAdvert = lowerPriorityNoAdvert
            self.higherPriorityAdvert = higherPriorityAdvert
            self.lowerPriorityGARPRepeat = lowerPriorityGARPRepeat
            self.lowerPriorityGARPDelay = lowerPriorityGARPDelay
        }
    }

    public enum Action: Hashable, Sendable {
        case transition(from: State, to: State)
        case sendAdvertisement(priority: UInt8)
        /// Add the virtual addresses (and routes), then announce them (GARP / NA).
        case addAddresses
        case removeAddresses
        /// GARP / unsolicited NA for the addresses, this many rounds (a master's answer to a
        /// lower-priority advert, garp_lower_prio_repeat).
        case announce(repeats: Int)
        /// A master heard a lower priority: its sync group siblings announce their addresses
        /// too (keepalived), and the log says so.
        case heardLowerPriority(UInt8)
    }

    /// What a received, already validated advert says.
    public struct Heard: Hashable, Sendable {
        public var priority: UInt8
        /// v3: the sender's interval.
        public var interval: Duration?
        public var source: IPAddress
        public init(priority: UInt8, interval: Duration? = nil, source: IPAddress) {
            self.priority = priority
            self.interval = interval
            self.source = source
        }
    }

    public private(set) var parameters: Parameters
    public private(set) var state: State = .initial
    public private(set) var masterAdvertisementInterval: Duration
    public private(set) var masterDownDeadline: Instant?
    public private(set) var advertisementDeadline: Instant?
    /// When a running preempt_delay ends; nil while none runs.
    public private(set) var preemptDeadline: Instant?
    /// vrrp_startup_delay: until this instant a backup's down timer counts from it rather
    /// than from now, so no instance, an address owner included, becomes MASTER before
    /// the delay and a whole down interval have passed (keepalived's delayed start).
    public var delayedStart: Instant?
    /// The second GARP rounds owed to lower-priority adverts, one per advert heard: keepalived
    /// starts a timer for each and never cancels it. Leaving MASTER keeps them: one that ends
    /// while this instance is MASTER again announces, one that ends in any other state sends
    /// nothing, its addresses being gone.
    public private(set) var lowerPriorityGARPDeadlines: [Instant] = []

    /// Where a down timer set at `now` starts counting.
    func downTimerBase(_ now: Instant) -> Instant { delayedStart.map { max($0, now) } ?? now }

    public init(_ p: Parameters) {
        parameters = p
        masterAdvertisementInterval = p.interval
    }

    // MARK: timers (spec §2.2, keepalived's microsecond arithmetic)

    /// Computed in whole microseconds, with keepalived's truncations, so both daemons'
    /// timers agree to the microsecond.
    public static func skew(priority: UInt8, version: Advertisement.Version, masterInterval: Duration) -> Duration {
        let gap = Int64(256 - Int(priority))
        switch version {
        case .v2: return .microseconds(gap * 1_000_000 / 256)
        case .v3: return .microseconds(gap * (masterInterval.microsecondCount / 10_000) * 625 / 16)
        }
    }

    public var skewTime: Duration {
        Self.skew(priority: parameters.priority, version: parameters.version, masterInterval: masterAdvertisementInterval)
    }

    public var masterDownInterval: Duration { masterAdvertisementInterval * Int(parameters.downTimerAdverts) + skewTime }

    public var nextDeadline: Instant? {
        let own: Instant? = switch state {
        case .backup: masterDownDeadline
        case .master: advertisementDeadline
        default: nil
        }
        // A stopped instance has no timers left; in any other state the owed rounds still
        // end (and are dropped there unless MASTER).
        guard state != .stopped else { return nil }
        return [own, lowerPriorityGARPDeadlines.min()].compactMap { $0 }.min()
    }

    // MARK: events

    /// Start-up: an address owner configured MASTER takes over at once; everybody else
    /// (including a non-owner `state MASTER`) starts as BACKUP with a full down timer.
    public mutating func start(now: Instant, faulty: Bool = false) -> [Action] {
        if faulty { return move(to: .fault) }
        if parameters.configuredMaster && parameters.priority == 255 {
            // keepalived starts an owner as a backup whose timer ends at once: with a delay, at its end.
            guard let d = delayedStart, now < d else { return becomeMaster(now: now) }
            let actions = becomeBackup(now: now)
            masterDownDeadline = d
            return actions
        }
        return becomeBackup(now: now)
    }

    public mutating func fire(now: Instant) -> [Action] {
        let due = lowerPriorityGARPDeadlines.filter { $0 <= now }.count
        lowerPriorityGARPDeadlines.removeAll { $0 <= now }
        switch state {
        case .backup:
            guard let d = masterDownDeadline, now >= d else { return [] }
            return becomeMaster(now: now)
        case .master:
            var actions: [Action] = []
            for _ in 0..<due { actions.append(.announce(repeats: parameters.lowerPriorityGARPRepeat)) }
            return actions + (dueAdvertisement(now: now).map { [$0] } ?? [])
        default:
            return []
        }
    }

    /// A MASTER's advert that has fallen due, and nothing else: for an owner whose loop a
    /// long job holds (a kernel dump of a million flows takes seconds), so its backup does
    /// not take over meanwhile, while the rest of `fire` (other deadlines, a transition)
    /// waits for the loop's next turn.
    public mutating func dueAdvertisement(now: Instant) -> Action? {
        guard state == .master, let d = advertisementDeadline, now >= d else { return nil }
        advertisementDeadline = d + parameters.interval
        if advertisementDeadline! <= now { advertisementDeadline = now + parameters.interval }
        return .sendAdvertisement(priority: parameters.priority)
    }

    public mutating func receive(_ heard: Heard, now: Instant) -> [Action] {
        switch state {
        case .backup:
            if heard.priority == 0 {
                masterDownDeadline = now + skewTime
                return []
            }
            if parameters.preemptDelay > .zero && parameters.preempt {
                if heard.priority >= parameters.priority {
                    preemptDeadline = nil
                } else if preemptDeadline == nil {
                    preemptDeadline = now + parameters.preemptDelay
                }
            }
            let preemptDelayPending = preemptDeadline.map { now < $0 } ?? false
            if !parameters.preempt || heard.priority >= parameters.priority || preemptDelayPending {
                if parameters.version == .v3, let i = heard.interval { masterAdvertisementInterval = i }
                masterDownDeadline = downTimerBase(now) + masterDownInterval
            }
            // A lower-priority master is discarded: the down timer keeps running.
            return []
        case .master:
            if heard.priority == 0 { return answered([.sendAdvertisement(priority: parameters.priority)], now: now) }
            if heard.priority > parameters.priority
                || (heard.priority == parameters.priority && Self.isGreater(heard.source, than: parameters.address)) {
                if parameters.version == .v3, let i = heard.interval { masterAdvertisementInterval = i }
                var actions: [Action] = parameters.higherPriorityAdvert ? [.sendAdvertisement(priority: parameters.priority)] : []
                actions.append(.removeAddresses)
                actions += becomeBackup(now: now)
                return actions
            }
            // keepalived answers a lower master at once to force the election (RFC: discard),
            // and refreshes the neighbours' caches, which may point at that other router.
            var actions: [Action] = [.heardLowerPriority(heard.priority)]
            if !parameters.lowerPriorityNoAdvert { actions.append(.sendAdvertisement(priority: parameters.priority)) }
            return answered(actions + lowerPriorityAnnouncements(now: now), now: now)
        default:
            // INIT, FAULT and STOP ignore adverts.
            return []
        }
    }

    /// Sync group: a sibling heard a lower-priority advert; a MASTER member announces its
    /// own addresses as that sibling does (keepalived: members with garp_lower_prio_repeat).
    public mutating func siblingHeardLowerPriority(now: Instant) -> [Action] {
        guard state == .master else { return [] }
        return lowerPriorityAnnouncements(now: now)
    }

    private mutating func lowerPriorityAnnouncements(now: Instant) -> [Action] {
        guard parameters.lowerPriorityGARPRepeat > 0 else { return [] }
        if parameters.lowerPriorityGARPDelay > .zero { lowerPriorityGARPDeadlines.append(now + parameters.lowerPriorityGARPDelay) }
        return [.announce(repeats: parameters.lowerPriorityGARPRepeat)]
    }

    /// A master that answers adverts restarts its advert timer from the answer, as
    /// keepalived restarts it after each advert it reads (not with lower_prio_no_advert).
    private mutating func answered(_ actions: [Action], now: Instant) -> [Action] {
        if !parameters.lowerPriorityNoAdvert { advertisementDeadline = now + parameters.interval }
        return actions
    }

    public mutating func fault(now: Instant) -> [Action] {
        switch state {
        case .master: return [.sendAdvertisement(priority: 0), .removeAddresses] + move(to: .fault)
        case .fault, .stopped: return []
        default: return move(to: .fault)
        }
    }

    /// Leaving FAULT always goes through BACKUP with a fresh down timer.
    public mutating func recover(now: Instant) -> [Action] {
        guard state == .fault else { return [] }
        return becomeBackup(now: now)
    }

    /// SIGTERM: a master resigns with one priority-0 advert and drops its addresses.
    public mutating func shutdown(now: Instant) -> [Action] {
        var actions: [Action] = []
        if state == .master { actions = [.sendAdvertisement(priority: 0), .removeAddresses] }
        return actions + move(to: .stopped)
    }

    /// Sync group: a sibling became MASTER, so this member follows at once.
    public mutating func forceMaster(now: Instant) -> [Action] {
        guard state == .backup else { return [] }
        return becomeMaster(now: now)
    }

    /// Whether a BACKUP's down timer has run out (it would become MASTER on `fire`).
    public func masterDownExpired(now: Instant) -> Bool {
        state == .backup && (masterDownDeadline.map { now >= $0 } ?? false)
    }

    /// Sync group: this member's timer ran out but a sibling still hears a master, so it
    /// stays BACKUP and waits a whole Master_Down_Interval again (keepalived's unanimity
    /// rule, spec §3.1).
    public mutating func holdBackup(now: Instant) {
        guard state == .backup else { return }
        masterDownDeadline = downTimerBase(now) + masterDownInterval
    }

    /// Sync group: a sibling stepped down, so this member follows.
    public mutating func forceBackup(now: Instant) -> [Action] {
        guard state == .master else { return [] }
        return [.removeAddresses] + becomeBackup(now: now)
    }

    /// A new effective priority (tracking, sync-health demotion). A master's next advert
    /// carries it; a backup's running down timer moves by the change in its skew, as
    /// keepalived shifts it.
    public mutating func changePriority(to priority: UInt8) {
        let oldSkew = skewTime
        parameters.priority = priority
        if state == .backup, let d = masterDownDeadline {
            let newSkew = skewTime
            masterDownDeadline = d + (newSkew - oldSkew)
        }
    }

    /// A reload: new parameters, same state. A master re-advertises at once (keepalived
    /// does after a reload); a backup keeps its timer.
    public mutating func reconfigure(_ p: Parameters, now: Instant) -> [Action] {
        let priorityChanged = p.priority != parameters.priority
        var next = p
        next.priority = parameters.priority
        parameters = next
        if priorityChanged { changePriority(to: p.priority) }
        if !parameters.preempt || parameters.preemptDelay == .zero { preemptDeadline = nil }
        guard state == .master else { return [] }
        masterAdvertisementInterval = parameters.interval
        advertisementDeadline = now + parameters.interval
        return [.sendAdvertisement(priority: parameters.priority)]
    }

    // MARK: transitions

    private mutating func becomeMaster(now: Instant) -> [Action] {
        masterAdvertisementInterval = parameters.interval
        advertisementDeadline = now + parameters.interval
        masterDownDeadline = nil
        return move(to: .master) + [.sendAdvertisement(priority: parameters.priority), .addAddresses]
    }

    private mutating func becomeBackup(now: Instant) -> [Action] {
        advertisementDeadline = nil
        preemptDeadline = nil
        masterDownDeadline = downTimerBase(now) + masterDownInterval
        return move(to: .backup)
    }

    private mutating func move(to next: State) -> [Action] {
        let from = state
        state = next
        return [.transition(from: from, to: next)]
    }

    /// The tie-break: source addresses compared as unsigned big-endian integers.
    static func isGreater(_ a: IPAddress, than b: IPAddress) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes) == false && a.bytes != b.bytes
    }
}
