import Timekeeping

/// How soon `tandem run` can tell a split brain, derived from the instances' advert
/// interval so a report comes within 2 × Master_Down_Interval (MDI) at advert_int 0.1 as
/// at 1 (issue #19; the windows of each report come from the instance's own MDI,
/// `SplitBrainMonitor`). The sync link is what proves the peer alive, so the node's own
/// sync messages must come often enough for the peer to judge in time: it sends an ALIVE
/// every quarter of 3 advert intervals, the MDI without its skew (never slower than
/// conntrackd's once a second). Leaving out the skew, which depends on the priority, gives
/// both nodes of a pair the same pace when they share advert_int (VRRPv2 requires it; a
/// VRRPv3 backup adopts its master's), so each knows how often a Tandem peer is heard. A
/// conntrackd peer keeps its once a second.
public struct SplitBrainTiming: Equatable, Sendable {
    /// The shortest configured advert interval of the node's instances, as InstanceMachine
    /// rounds it (nil: no instance, the defaults hold).
    public let advertInterval: Duration?

    public init(advertInterval: Duration?) { self.advertInterval = advertInterval }

    /// 3 advert intervals: the MDI without its skew.
    var unskewedMasterDownInterval: Duration? { advertInterval.map { $0 * 3 } }

    /// conntrackd 1.4.7 sends an ALIVE after a second without other messages.
    public static let conntrackdAliveInterval: Duration = .seconds(1)
    /// The old fixed judging period, still the slowest one.
    static let slowestCheck: Duration = .milliseconds(250)
    /// Below this the loop would spin for nothing: VRRP's own timers are 10 ms grained.
    static let fastestCheck: Duration = .milliseconds(10)

    /// How often this node is heard on the sync link while it is up (its ALIVE interval),
    /// and how often its peer view goes out.
    public var aliveInterval: Duration {
        guard let mdi = unskewedMasterDownInterval else { return Self.conntrackdAliveInterval }
        return max(Self.fastestCheck, min(Self.conntrackdAliveInterval, mdi / 4))
    }

    /// How often both halves are compared: an eighth of 3 intervals, so the check adds little
    /// to a report that must come within one more MDI after the takeover.
    public var checkPeriod: Duration {
        guard let mdi = unskewedMasterDownInterval else { return Self.slowestCheck }
        return max(Self.fastestCheck, min(Self.slowestCheck, mdi / 8))
    }

    /// Silence after which a peer sending every `interval` counts as gone: two missed
    /// messages and a half, as the fixed 2.5 s was for conntrackd's second.
    static func silence(peerInterval: Duration) -> Duration { peerInterval * 5 / 2 }
}
