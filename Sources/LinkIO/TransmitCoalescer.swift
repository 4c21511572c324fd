import Timekeeping

/// Packs a transmit run's messages into datagrams and decides when they leave.
///
/// While datagrams are streaming (the last send was less than `window` ago), what a run
/// packs waits up to `window` for the next runs' messages and then goes out in one system
/// call: a lone change goes out at once, and a burst fills its datagrams and wakes the
/// peer once per batch rather than once per datagram. Loop turns during a burst used to
/// end with a half-empty datagram each, and every datagram woke a peer that had caught
/// up (on a virtual link the sender's CPU pays for the peer's receive and for the switch
/// to it). Within a run, closed datagrams go out `datagramsPerSend` at a time.
public struct TransmitCoalescer {
    public static let window = Duration.milliseconds(1)
    /// Datagrams handed to the channel per system call.
    public static let datagramsPerSend = 64

    /// The datagrams being packed, kept between runs so sending allocates nothing.
    public var batch = DatagramBatch()
    private var lastSentAt = Instant.zero
    private var partialSince: Instant?
    private var sentThisRun = false

    public init() {}

    /// When the datagram waiting for company must go (monotonic nanoseconds).
    public var deadline: Instant? { partialSince.map { $0 + Self.window } }

    /// Sends the closed datagrams once at least `count` of them are ready.
    public mutating func sendClosed(atLeast count: Int = Self.datagramsPerSend, through channels: ChannelSet) {
        guard batch.closedCount >= max(count, 1) else { return }
        channels.send(batch: batch.bytes, ends: batch.ends)
        batch.removeClosed()
        sentThisRun = true
    }

    /// The end of a transmit run: what is left goes now, or waits while a stream goes on.
    public mutating func endRun(now: Instant, through channels: ChannelSet) {
        if sentThisRun { lastSentAt = now }
        sentThisRun = false
        guard !batch.openIsEmpty || batch.closedCount > 0 else { return }
        let since = partialSince ?? now
        if now - lastSentAt >= Self.window || now - since >= Self.window {
            batch.closeOpen()
            sendClosed(atLeast: 1, through: channels)
            sentThisRun = false
            lastSentAt = now
            partialSince = nil
        } else {
            partialSince = since
        }
    }

    /// Sends a datagram still waiting for company (on the way out).
    public mutating func flush(through channels: ChannelSet) {
        batch.closeOpen()
        guard batch.closedCount > 0 else { return }
        channels.send(batch: batch.bytes, ends: batch.ends)
        batch.removeClosed()
        partialSince = nil
    }
}
