/// The kinds of long-lived session the lab keeps open through the VIPs.
enum SessionKind: String, Sendable {
    /// SSH-like: the client types a line every 50 ms, the server echoes it and also
    /// streams output of its own.
    case tcp
    /// One subscribe datagram, then a server-to-client stream: without replicated state
    /// the stream cannot come back, since the client never sends again.
    case udp
    /// Ping: every request may create a new flow, so it survives even without sync and
    /// measures the stall only.
    case icmp
}

/// Why a session ended, from the client's socket (or the server's, for a reset).
enum SessionFailure: String, Sendable {
    case rst, eof, timeout, refused, error
}

/// Everything observed about one session, with wall-clock times.
struct SessionRecord: Sendable {
    let name: String
    let kind: SessionKind
    var localPort: UInt16 = 0
    /// Receive time of every message (echo, push, datagram, echo reply).
    var arrivals: [Double] = []
    /// UDP and ICMP: when each sequence number was sent (by the server, or the pinger).
    var sent: [Double] = []
    /// UDP and ICMP: which sequence numbers arrived.
    var received: Set<Int> = []
    var failure: SessionFailure?
    var failedAt: Double?
    /// The earliest the failure can have happened: the engine notices it at `failedAt`,
    /// on the first turn after it, and a starved engine's turn comes late.
    var failedAfter: Double?
    /// A TCP reset reached either end (ECONNRESET).
    var resetSeen = false
    var serverResetAt: Double?
    /// The earliest the server's reset can have arrived (as `failedAfter`).
    var serverResetAfter: Double?

    init(name: String, kind: SessionKind) {
        self.name = name
        self.kind = kind
    }

    mutating func fail(_ reason: SessionFailure, at t: Double, after earliest: Double? = nil) {
        guard failure == nil else { return }
        failure = reason
        failedAt = t
        failedAfter = earliest
        if reason == .rst { resetSeen = true }
    }
}
