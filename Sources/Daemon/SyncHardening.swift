#if canImport(Glibc)
import Glibc
#endif
import StateSync
import Timekeeping

/// The daemon's part of the sync link's hardening without a key (docs/sync-hardening.md):
/// the sequence-jump guard in front of the sync mode, and the rate limit on bulk sends
/// the peer asks for. The links' source checks and the FTFW engine's own refusals are
/// switched with it; `TANDEM_TEST_NO_SYNC_HARDENING=1` turns everything off, for the
/// tests' control runs only.
struct SyncHardening {
    let enabled: Bool
    /// Off only for a test's control run (`TANDEM_TEST_NO_HELD_RESYNC=1`): a restarted
    /// peer's request refused during its line's confirmation is then forgotten.
    let holdsResyncRequests = getenv("TANDEM_TEST_NO_HELD_RESYNC").map { String(cString: $0) } != "1"
    private(set) var jumpGuard = SequenceJumpGuard()
    /// A restarted peer's resync request, refused while its line was confirmed, to be
    /// answered now that the line is adopted.
    var heldResyncRequest: UInt32?
    private(set) var bulkSends = ControlMessageRateLimit()
    /// When we last asked the peer for its table, until its answer arrived.
    private var ownResyncRequest: Instant?
    /// How long after a request of ours its answer is still expected: a peer that never
    /// answers must not leave the jump guard lenient for good. A million flows take some
    /// 10 s to send; gap repair asks again meanwhile if it has to.
    static let answerWindow = Duration.seconds(30)
    /// Refusals already logged, so each turn logs only what is new.
    private var logged = 0

    init(enabled: Bool) { self.enabled = enabled }

    /// Whether the hardening is on (always, except for a test's control run), and the log
    /// line that says why when the switch is set.
    static func fromEnvironment() -> (enabled: Bool, note: String?) {
        guard let value = getenv("TANDEM_TEST_NO_SYNC_HARDENING").map({ String(cString: $0) }) else { return (true, nil) }
        if value == "1" {
            return (false, "TANDEM_TEST_NO_SYNC_HARDENING is set: the sync link's source checks and guards are off (test-only)")
        }
        return (true, "TANDEM_TEST_NO_SYNC_HARDENING=\(value) ignored: only 1 turns the sync link's hardening off")
    }

    /// A resync request of ours went out: until its answer is in, a jump is our loss of it.
    mutating func ownResyncRequested(now: Instant) { ownResyncRequest = now }
    mutating func resyncAnswered() { ownResyncRequest = nil }
    func awaitsResyncAnswer(now: Instant) -> Bool { ownResyncRequest.map { now - $0 < Self.answerWindow } ?? false }

    /// Whether a message with this header goes on to the sync mode. `expected`: the mode's
    /// next sequence number, nil before the peer's first message.
    /// `resume`: called first when the message shows a gap was forged, with where the
    /// peer's line is expected again (the mode is to be set back there).
    /// `asksResync`: the message is a resync request. When it adopts a restarted peer's
    /// line, the resync request that line sent while refused is left in `heldResyncRequest`
    /// for the caller to answer (it cannot be answered from in here: the answer uses the
    /// bulk-send limit, which is ours).
    /// `answerAwaited`: our own resync request's answer is on its way (a jump is loss then).
    mutating func admits(flags: SyncFlags, sequence: UInt32, asksResync: Bool = false, answerAwaited: Bool = false,
                         expected: UInt32?, now: Instant, resume: (UInt32) -> Void = { _ in }) -> Bool {
        guard enabled else { return true }
        switch jumpGuard.judge(sequence: sequence, hello: flags.contains(.hello), asksResync: asksResync,
                               answerAwaited: answerAwaited, expected: expected, now: now) {
        case .admit: return true
        case .adoptLine(let held):
            if holdsResyncRequests { heldResyncRequest = held }
            return true
        case .unconfirmedJump: return false
        case .resumeOldLine(let s):
            resume(s)
            return true
        }
    }

    /// Whether a resync request may be answered now (a bulk send of the whole table).
    mutating func permitsBulkSend(now: Instant) -> Bool {
        guard enabled else { return true }
        return bulkSends.permit(.bulkSend, now: now)
    }

    /// A log line for the refusals made since the last one, if any (once per turn: a
    /// flood must not flood the log too).
    /// Datagrams and connections not from the peer are left out: `PeerLink` logs those.
    mutating func newRefusals(_ r: SyncRefusals) -> String? {
        let counted = r.total - r.notFromPeer
        guard counted > logged else { return nil }
        defer { logged = counted }
        let reasons = r.byReason.filter { $0.reason != "not-from-peer" && $0.count > 0 }.map { "\($0.count) \($0.reason)" }
        return "refused \(counted - logged) message(s) from the sync link (so far: \(reasons.joined(separator: ", ")); "
            + "see docs/sync-hardening.md)"
    }
}

extension ConntrackdDaemon {
    /// The jump guard found a gap forged: back to the peer's own line, whose messages lost
    /// meanwhile the mode will see as a gap (FTFW NACKs it, gap repair follows it up).
    func resumePeerLine(expecting s: UInt32) {
        log("a sequence gap was forged: the peer's messages go on from \(s); resuming its line (see docs/sync-hardening.md)")
        engine.resumeLine(expecting: s)
    }

    /// Every refusal of the hardened link so far, by reason.
    var syncRefusals: SyncRefusals {
        var r = messageRefusals
        r.notFromPeer = link.foreignDatagrams
        r.tcpSecondConnection = link.channels.channels.reduce(0) { $0 + $1.secondConnections }
        return r
    }

    /// The refusals judged after the link (of a message, not of a datagram or connection).
    var messageRefusals: SyncRefusals {
        var r = SyncRefusals()
        r.sequenceJumpUnconfirmed = hardening.jumpGuard.refused
        let engineCounts = engine.hardeningRefusals
        r.rateLimited = hardening.bulkSends.refused + engineCounts.rateLimited
        r.ackBeyondSent = engineCounts.acknowledgementsBeyondSent
        r.cacheFull = sync.disableExternalCache ? 0 : state.externalCache.counters.createFailed
        return r
    }

    /// The refusals that arrived on link `index`, every reason; the authentication's
    /// on that link, nil without a key.
    func refusals(onChannel index: Int) -> (hardening: SyncRefusals, authentication: SyncAuthenticator.Counters?) {
        let channels = link.channels
        guard channels.channels.indices.contains(index) else { return (SyncRefusals(), nil) }
        var r = channelRefusals.byChannel.indices.contains(index) ? channelRefusals.byChannel[index] : SyncRefusals()
        r.notFromPeer = channels.channels[index].foreignDatagrams
        r.tcpSecondConnection = channels.channels[index].secondConnections
        return (r, channels.authenticator == nil ? nil : channels.authenticationRefusals[index])
    }
}

extension ModeEngine {
    /// A gap was found forged: the peer's line is expected at `s` again.
    func resumeLine(expecting s: UInt32) {
        switch self {
        case .ftfw(let c): c.engine.resumeLine(expecting: s)
        case .notrack(let c): c.engine.resumeLine(expecting: s)
        case .alarm(let c): c.engine.resumeLine(expecting: s)
        }
    }

    /// FTFW's own refusals (the other modes have neither ACKs nor a resend queue).
    var hardeningRefusals: (rateLimited: Int, acknowledgementsBeyondSent: Int) {
        if case .ftfw(let c) = self { (c.engine.counters.rateLimited, c.engine.counters.acknowledgementsBeyondSent) } else { (0, 0) }
    }

    /// The time of the messages about to be handed over (FTFW's rate limit reads it).
    func receiving(at now: Instant) {
        if case .ftfw(let c) = self { c.engine.receiving(at: now) }
    }

    /// The mode's next expected sequence number, nil before the peer's first message.
    var expectedSequence: UInt32? {
        let t = tracker
        return t.isSet ? t.expected : nil
    }
}
