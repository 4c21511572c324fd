import Timekeeping

/// Replication lag, sampled without a wire message of its own: one object at a time is
/// followed from the moment its change was read from the kernel to the peer's ACK of the
/// message that carried it. The ACK is the only word the peer gives (conntrackd included),
/// so a sample also holds the peer's acknowledgement delay: Tandem acknowledges within
/// `FTFWEngine.Configuration.acknowledgementDelay`, conntrackd every Window messages or after
/// a second without sending, which makes its figure an upper bound at low rates.
public struct LagProbe<Key: Hashable & Sendable>: Sendable {
    /// The followed object: its change's time, and the sequences of its first and latest
    /// transmissions (an ACK of either means the peer holds the change: each carries the
    /// object's state as it was when sent).
    struct Followed: Sendable {
        var key: Key
        var since: Instant
        var first: UInt32?
        var latest: UInt32?
    }

    /// A new probe starts at most this often, so following costs nothing per flow.
    public var interval: Duration
    /// A probe whose ACK never came (the peer restarted, the message was dropped as the
    /// queue overflowed) is given up after this long and counted.
    public var patience: Duration
    private var followed: Followed?
    private var lastStart: Instant?
    public private(set) var abandoned = 0

    public init(interval: Duration = .milliseconds(100), patience: Duration = .seconds(10)) {
        self.interval = interval
        self.patience = patience
    }

    /// Whether a change read now would be followed: the owner then names one.
    public func wantsSample(now: Instant) -> Bool {
        if let f = followed { return now - f.since >= patience }
        return lastStart.map { now - $0 >= interval } ?? true
    }

    /// The object whose change was just read from the kernel and queued for the peer.
    public mutating func follow(_ key: Key, now: Instant) {
        guard wantsSample(now: now) else { return }
        if followed != nil { abandoned += 1 }
        followed = Followed(key: key, since: now)
        lastStart = now
    }

    /// The key being followed, checked by the engine as it numbers each object it sends.
    var followedKey: Key? { followed?.key }

    /// The followed object went out under `sequence` (again, if it was retransmitted).
    mutating func transmitted(sequence: UInt32) {
        if followed?.first == nil { followed?.first = sequence }
        followed?.latest = sequence
    }

    /// The peer acknowledged `range`: the lag, if that covers the followed transmission.
    public mutating func acknowledged(_ range: ClosedRangeOfSequences, now: Instant) -> Duration? {
        guard let f = followed, let first = f.first, let latest = f.latest,
              range.contains(first) || range.contains(latest) else { return nil }
        followed = nil
        return now - f.since
    }
}
