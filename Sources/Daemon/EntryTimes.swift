import Timekeeping

/// Cache entries keep their times in four bytes each: a million flows in two caches is
/// where a byte per entry shows. `since` only feeds listings, which count whole seconds
/// as conntrackd does, so whole seconds of the clock are enough (UInt32 lasts 136 years).
enum WholeSeconds {
    static func of(_ t: Instant) -> UInt32 { UInt32(clamping: t.nanoseconds / 1_000_000_000) }
    static func instant(_ s: UInt32) -> Instant { Instant(nanoseconds: UInt64(s) * 1_000_000_000) }
}

/// When an external entry was last written, in milliseconds since an epoch. A resync's
/// sweep compares these with a mark taken moments earlier, so whole seconds would keep
/// flows the peer dropped; milliseconds since boot would overflow after 49 days. So the
/// epoch is the first write, and before the stamps would overflow it moves on (every
/// entry's stamp with it, once in 12 days: `stamp(_:)`), stamps older than the new epoch
/// becoming 0, that is, older than any mark or cutoff still to come.
struct UpdateStamps: Sendable {
    private(set) var epoch: Instant?
    static let tick: UInt64 = 1_000_000
    /// Stamps reach at most this before the epoch moves on, well short of UInt32's end.
    static let ceiling: UInt64 = 1 << 31
    /// Where `now`'s stamp lands after the epoch moved.
    static let restart: UInt64 = 1 << 30

    /// `now`'s stamp, and how far the epoch moved to give it (0 almost always): every
    /// stamp already given must be lowered by that much (`lowered`).
    mutating func stamp(_ now: Instant) -> (stamp: UInt32, moved: UInt64) {
        guard let e = epoch else { epoch = now; return (0, 0) }
        guard now > e else { return (0, 0) }
        let d = (now.nanoseconds - e.nanoseconds) / Self.tick
        guard d >= Self.ceiling else { return (UInt32(d), 0) }
        let moved = d - Self.restart
        epoch = Instant(nanoseconds: e.nanoseconds + moved * Self.tick)
        return (UInt32(Self.restart), moved)
    }

    static func lowered(_ stamp: UInt32, by moved: UInt64) -> UInt32 {
        UInt64(stamp) > moved ? stamp - UInt32(moved) : 0
    }

    /// `t` as a stamp (rounded down), or nil when it is before the epoch: no entry was
    /// written before then.
    func stamp(of t: Instant) -> UInt32? {
        guard let e = epoch, t >= e else { return nil }
        return UInt32(clamping: (t.nanoseconds - e.nanoseconds) / Self.tick)
    }

    func instant(of stamp: UInt32) -> Instant {
        Instant(nanoseconds: (epoch ?? .zero).nanoseconds + UInt64(stamp) * Self.tick)
    }
}
