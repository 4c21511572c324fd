import Timekeeping

/// How soon `tandem run` can tell a split brain, derived from the instances'
/// Master_Down_Interval (MDI) so a report comes within 2 × MDI at advert_int 0.1 as at 1
/// (issue #19). The sync link is what proves the peer alive, so the node's own sync
/// messages must come often enough for the peer to judge in time: it sends an ALIVE at
/// least every MDI / 4 (never slower than conntrackd's once a second). A Tandem peer with
/// the same advert_int (VRRPv2 requires it; a VRRPv3 backup adopts the master's) sends at
/// the same pace; a conntrackd peer keeps its once a second.
public struct SplitBrainTiming: Equatable, Sendable {
    /// The shortest MDI of the node's instances (nil: no instance, the defaults hold).
    public let masterDownInterval: Duration?

    public init(masterDownInterval: Duration?) { self.masterDownInterval = masterDownInterval }

    /// conntrackd 1.4.7 sends an ALIVE after a second without other messages.
    public static let conntrackdAliveInterval: Duration = .seconds(1)
    /// The old fixed judging period, still the slowest one.
    static let slowestCheck: Duration = .milliseconds(250)
    /// Below this the loop would spin for nothing: VRRP's own timers are 10 ms grained.
    static let fastestCheck: Duration = .milliseconds(10)

    /// How often this node is heard on the sync link while it is up (its ALIVE interval),
    /// and how often its peer view goes out.
    public var aliveInterval: Duration {
        guard let mdi = masterDownInterval else { return Self.conntrackdAliveInterval }
        return max(Self.fastestCheck, min(Self.conntrackdAliveInterval, mdi / 4))
    }

    /// How often both halves are compared: an eighth of the MDI, so the check adds little
    /// to a report that must come within one more MDI after the takeover.
    public var checkPeriod: Duration {
        guard let mdi = masterDownInterval else { return Self.slowestCheck }
        return max(Self.fastestCheck, min(Self.slowestCheck, mdi / 8))
    }

    /// Silence after which a peer sending every `interval` counts as gone: two missed
    /// messages and a half, as the fixed 2.5 s was for conntrackd's second.
    static func silence(peerInterval: Duration) -> Duration { peerInterval * 5 / 2 }
}
