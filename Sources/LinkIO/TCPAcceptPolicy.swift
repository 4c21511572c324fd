import Timekeeping

/// Which connection a TCP link's listener reads (docs/sync-hardening.md). conntrackd reads
/// whichever client connected last, from anywhere: any host that reaches the port can
/// take the peer's place, and the peer's own connection is closed under it. Hardened, only
/// the configured peer's address is accepted, and a second connection from it does not
/// displace one heard from within `liveFor` (the peer restarted or reconnected when its
/// old connection has been quiet that long: it sends at least an ALIVE a second).
public struct TCPAcceptPolicy: Hashable, Sendable {
    public enum Decision: Hashable, Sendable {
        /// No connection is held: the new one is read from now on.
        case take
        /// The held connection has gone quiet: the new one replaces it.
        case replace
        case refuseNotFromPeer
        case refuseSecondConnection
    }

    public static let liveFor = Duration.seconds(3)

    public let hardened: Bool

    public init(hardened: Bool) { self.hardened = hardened }

    /// `held`: when the connection we read was last heard from (accepted or read), nil
    /// when there is none.
    public func decide(fromPeer: Bool, held: Instant?, now: Instant) -> Decision {
        guard let held else { return !hardened || fromPeer ? .take : .refuseNotFromPeer }
        guard hardened else { return .replace }
        guard fromPeer else { return .refuseNotFromPeer }
        return now - held < Self.liveFor ? .refuseSecondConnection : .replace
    }
}
