import IPAddressing
import Timekeeping

/// keepalived 2.2.7's spacing of gratuitous ARPs and unsolicited NAs on an interface
/// (vrrp_garp_interval, vrrp_gna_interval; vrrp_arp.c, vrrp_ndisc.c, vrrp_scheduler.c).
/// One announcement goes out at once and holds the interface's next one back by the
/// interval, whichever instance sends it; what comes sooner waits in a queue that holds an
/// address once, however many rounds asked for it, so a burst of repeats collapses into
/// one late announcement, as keepalived's per-address pending flag makes it. An instance
/// leaving MASTER takes its queued announcements with it.
public struct AnnouncementPacer<Owner: Hashable & Sendable>: Sendable {
    public struct Announcement: Hashable, Sendable {
        public var owner: Owner
        /// The (base) interface the spacing is kept for.
        public var interface: String
        public var address: IPAddress
        public init(owner: Owner, interface: String, address: IPAddress) {
            self.owner = owner
            self.interface = interface
            self.address = address
        }
    }

    /// GARPs and NAs are spaced apart separately.
    struct Lane: Hashable, Sendable {
        var interface: String
        var family: UInt8
    }

    public private(set) var garpInterval: Duration
    public private(set) var gnaInterval: Duration
    /// Per interface and family: no announcement before this instant.
    private var nextAllowed: [Lane: Instant] = [:]
    /// Held back, oldest first.
    public private(set) var queued: [Announcement] = []

    /// `.zero`: that family is not spaced.
    public init(garpInterval: Duration, gnaInterval: Duration) {
        self.garpInterval = garpInterval
        self.gnaInterval = gnaInterval
    }

    public var isPacing: Bool { garpInterval > .zero || gnaInterval > .zero }

    func interval(_ family: UInt8) -> Duration { family == AddressFamily.inet6 ? gnaInterval : garpInterval }

    /// One announcement asked for: true when it goes out now (and holds its interface's
    /// next one back), false when it waits in the queue.
    public mutating func offer(_ a: Announcement, now: Instant) -> Bool {
        let lane = Lane(interface: a.interface, family: a.address.family)
        let gap = interval(lane.family)
        guard gap > .zero else { return true }
        if let next = nextAllowed[lane], now < next {
            if !queued.contains(a) { queued.append(a) }
            return false
        }
        nextAllowed[lane] = now + gap
        return true
    }

    /// The queued announcements whose interface is free again, one per interface and
    /// family: each holds the next one back by the interval. One that can no longer be
    /// sent (`sendable` false: its owner left MASTER, its address went with a reload) is
    /// dropped without taking its interface's turn, which the next one in line gets.
    public mutating func due(now: Instant, sendable: (Announcement) -> Bool = { _ in true }) -> [Announcement] {
        var out: [Announcement] = []
        var waiting: [Announcement] = []
        for a in queued {
            let lane = Lane(interface: a.interface, family: a.address.family)
            if let next = nextAllowed[lane], now < next {
                waiting.append(a)
                continue
            }
            guard sendable(a) else { continue }
            nextAllowed[lane] = now + interval(lane.family)
            out.append(a)
        }
        queued = waiting
        return out
    }

    /// The instance left MASTER: what it still had queued is not sent.
    public mutating func drop(_ owner: Owner) {
        queued.removeAll { $0.owner == owner }
    }

    /// A reload's spacing: the same keeps the interfaces' turns and the queue; another
    /// starts afresh with nothing queued, as keepalived rebuilds its interfaces' delays.
    public mutating func respace(garpInterval: Duration, gnaInterval: Duration) {
        guard garpInterval != self.garpInterval || gnaInterval != self.gnaInterval else { return }
        self = AnnouncementPacer(garpInterval: garpInterval, gnaInterval: gnaInterval)
    }

    /// After a reload: only what `keep` still wants stays queued (not an instance the reload
    /// removed, nor an address it took away).
    public mutating func retain(_ keep: (Announcement) -> Bool) {
        queued.removeAll { !keep($0) }
    }

    /// When the first queued announcement may go out; nil with nothing queued.
    public var nextDeadline: Instant? {
        queued.compactMap { nextAllowed[Lane(interface: $0.interface, family: $0.address.family)] }.min()
    }
}
