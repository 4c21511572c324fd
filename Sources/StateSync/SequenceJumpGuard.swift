import Timekeeping

/// Tandem's guard against a forged sequence number (issue #15, hardening without a key).
///
/// The sync modes adopt whatever sequence number arrives: one datagram that jumps far ahead
/// moves the receiver's expectation there, and from then on every genuine message of the
/// peer counts as "before" and is dropped, ACKs and NACKs included, until the peer
/// restarts. A real peer never jumps that far on a live line: the resend queue bounds what
/// it can have in flight, and a restarted peer starts a new line and keeps to it.
///
/// The rule: a message more than `window` ahead of the expected number (or, with HELLO,
/// which skips the modes' own check, more than `window` behind it) is refused. It is
/// adopted only when the jumped line proves itself: `confirmations` messages following it
/// one by one (jumped + 1, + 2, …), arriving while the line we follow has been silent for
/// at least `silence`. A restarted peer does exactly that (its old line is dead, it keeps
/// counting on the new one); an attacker's single datagram does not, and while the
/// genuine peer is talking (it sends at least an ALIVE a second) no line is ever switched.
///
/// A forged number *within* the window looks like loss and is taken (the mode NACKs the
/// gap); the genuine messages then arrive as "before". So after every gap the line left
/// behind is watched: when it goes on — `confirmations` messages in order from where it
/// stopped — while nothing has come on the line after the gap for `silence`, the gap was
/// forged, and the mode is sent back to the old line (`resumeOldLine`). Real loss never
/// looks like that: the old line of a real gap is dead, and the new one talks.
///
/// A restarted peer's first message is usually its resync request, refused like the rest of
/// the line until the line is confirmed. Left there, the peer would wait for its own repeat
/// (seconds) before its table came; so the line keeps its refused request, and adopting the
/// line hands it back to be answered.
///
/// A jump forward while an answer to our own resync request is on its way is loss, not a
/// forgery: a receiver that asked for the table because it fell behind can fall behind the
/// answer by more than the window too (a busy backup at 1M flows lost 683,287 messages of
/// one). Refusing it there left the backup without the table until the peer went quiet.
/// The gap is watched as any gap within the window is, so a forged one is still undone.
public struct SequenceJumpGuard: Hashable, Sendable {
    public struct Rule: Hashable, Sendable {
        public var window: UInt32
        public var confirmations: Int
        public var silence: Duration
        public init(window: UInt32 = 65_536, confirmations: Int = 3, silence: Duration = .seconds(2)) {
            self.window = window
            self.confirmations = max(1, confirmations)
            self.silence = silence
        }
    }

    public enum Verdict: Hashable, Sendable {
        case admit
        /// A jumped line is confirmed: this message and the line's next ones go to the mode.
        /// `heldResyncRequest`: the sequence number of a resync request the line sent while
        /// it was refused, to be answered now (the mode never saw it).
        case adoptLine(heldResyncRequest: UInt32?)
        /// A jumped message the guard is still waiting to see confirmed.
        case unconfirmedJump
        /// The line a gap left behind goes on and the gap's line is silent: set the mode's
        /// expectation back to `expecting` (where the old line stopped), then hand it this
        /// message, which it will take as a gap over what the forgery cost (and NACK it).
        case resumeOldLine(expecting: UInt32)
    }

    /// The line a gap left behind: where it stopped, where its next message would be, how
    /// many have come in order since, when the gap was taken and when the line after it was
    /// last heard.
    struct LeftBehind: Hashable, Sendable {
        var stopped: UInt32
        var next: UInt32
        var followers: Int
        var takenAt: Instant
        var gapLineHeard: Instant
    }

    /// The jumped line being watched: the number its next message must carry, and how
    /// many messages have followed its first in order.
    struct Candidate: Hashable, Sendable {
        var next: UInt32
        var followers: Int
        var heldResyncRequest: UInt32?
    }

    public let rule: Rule
    private var candidate: Candidate?
    /// When a message of the line we follow last passed.
    private var lastOnLine: Instant?
    private var leftBehind: LeftBehind?
    public private(set) var refused = 0
    /// Jumped lines adopted after their confirmation (peer restarts, usually).
    public private(set) var adopted = 0
    /// Gaps found forged: the old line was resumed.
    public private(set) var resumed = 0

    public init(rule: Rule = Rule()) { self.rule = rule }

    /// Judges a message's sequence number against `expected` (the mode's tracker; nil
    /// before the first message, when any number is taken). `asksResync`: the message is a
    /// resync request.
    /// `answerAwaited`: we asked the peer for its table and its answer has not arrived.
    public mutating func judge(sequence s: UInt32, hello: Bool, asksResync: Bool = false, answerAwaited: Bool = false,
                               expected: UInt32?, now: Instant) -> Verdict {
        guard let expected else {
            lastOnLine = now
            return .admit
        }
        let distance = Int64(Int32(bitPattern: s &- expected))
        let window = Int64(rule.window)
        let jumped = (distance > window && !answerAwaited) || (hello && distance < -window)
        if !jumped {
            if distance > 0 && !hello && leftBehind.map({ now - $0.takenAt >= rule.silence }) ?? true {
                // A line watched for less than `silence` is kept: a second forged gap must
                // not hide the first (real loss has no old line to watch anyway).
                leftBehind = LeftBehind(stopped: expected, next: expected, followers: 0, takenAt: now, gapLineHeard: now)
            } else if distance >= 0 || hello {
                leftBehind?.gapLineHeard = now
            } else if var old = leftBehind, old.next == s {
                old.next = s &+ 1
                old.followers += 1
                leftBehind = old
                if old.followers >= rule.confirmations && now - old.gapLineHeard >= rule.silence {
                    leftBehind = nil
                    lastOnLine = now
                    resumed += 1
                    return .resumeOldLine(expecting: old.stopped)
                }
            }
            // An old message (before) is not proof that the line lives: the modes drop it.
            if distance >= 0 || hello { lastOnLine = now }
            return .admit
        }
        if var c = candidate, c.next == s {
            c.followers += 1
            c.next = s &+ 1
            candidate = c
        } else {
            candidate = Candidate(next: s &+ 1, followers: 0)
        }
        let lineSilent = lastOnLine.map { now - $0 >= rule.silence } ?? true
        if candidate!.followers >= rule.confirmations && lineSilent {
            // A request that confirms the line goes to the mode itself: not answered twice.
            let held = asksResync ? nil : candidate!.heldResyncRequest
            candidate = nil
            lastOnLine = now
            adopted += 1
            return .adoptLine(heldResyncRequest: held)
        }
        if asksResync { candidate!.heldResyncRequest = s }
        refused += 1
        return .unconfirmedJump
    }
}
