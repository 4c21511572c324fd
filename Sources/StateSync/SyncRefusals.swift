/// What the hardened sync link refused, one counter per reason (docs/sync-hardening.md):
/// `conntrackd -s network` ("refused:"), `tandem status --json` (`sync.refusals`) and
/// /metrics (`tandem_sync_refused_total{reason=…}`) show them.
public struct SyncRefusals: Hashable, Sendable, Encodable {
    /// Datagrams (or TCP connections) whose source is not the peer (UDP, TCP) or not on the
    /// link's subnet, or that came in on another device or address (Multicast).
    public var notFromPeer = 0
    /// Messages whose sequence number jumped outside the window and was not (yet) confirmed.
    public var sequenceJumpUnconfirmed = 0
    /// RESYNC requests, HELLO flushes and wide NACKs beyond one per second.
    public var rateLimited = 0
    /// ACKs naming sequence numbers we never sent.
    public var ackBeyondSent = 0
    /// TCP connections from the peer's address while its live connection was kept.
    public var tcpSecondConnection = 0
    /// New flows from the peer refused because the external cache holds HashLimit entries.
    public var cacheFull = 0

    public init() {}

    public var total: Int {
        notFromPeer + sequenceJumpUnconfirmed + rateLimited + ackBeyondSent + tcpSecondConnection + cacheFull
    }

    /// Every reason with its count, in a fixed order: the names are the metrics' label
    /// values and the status document's keys.
    public var byReason: [(reason: String, count: Int)] {
        [("not-from-peer", notFromPeer), ("sequence-jump-unconfirmed", sequenceJumpUnconfirmed),
         ("rate-limited", rateLimited), ("ack-beyond-sent", ackBeyondSent),
         ("tcp-second-connection", tcpSecondConnection), ("cache-full", cacheFull)]
    }
}
