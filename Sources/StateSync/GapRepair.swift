import Timekeeping

/// The receiver's repair of sequence gaps, for a sender it does not trust to resend.
///
/// FTFW answers a gap with a NACK, and a conforming sender resends what it still holds.
/// conntrackd 1.4.7 does not always (one queue slot per flow, a NACK scan that stops at
/// the first out-of-order entry, sends it drops on a full socket), and the resent
/// messages carry new sequence numbers, so the receiver can never tell which hole a
/// resent message filled. NOTRACK has no NACK at all.
///
/// The rule, decided from what the receiver can know:
/// - every gap is NACKed at once (the engine does that) and, `renackDelay` later, once
///   more: a lost NACK is the one failure a second NACK repairs;
/// - every gap is taken to be possibly still open. Once the link has been free of new
///   gaps for `settleDelay` (the sender's resends have had their time), or at the latest
///   `maximumDeferral` after the first gap not yet covered, the peer is asked for its
///   whole internal cache (RESYNC, what `conntrackd -n` sends), which conntrackd answers
///   by queueing every flow it holds;
/// - resync requests are at least `minimumInterval` apart; each one for gaps that began
///   within `maximumInterval` of the previous request doubles that spacing (up to
///   `maximumInterval`), so a lossy link costs at most one full table a minute, never a
///   storm; a quiet spell starts the spacing again from the minimum;
/// - a forward jump larger than `largestRepairableGap` is no loss that any resend queue
///   could repair (a restarted or foreign sender): it is counted as a jump, not as lost
///   messages, and repaired by a resync alone.
///
/// A pure value: fed gaps and the time, it returns what to send.
public struct GapRepair: Hashable, Sendable {
    public struct Configuration: Hashable, Sendable {
        public var renackDelay: Duration
        public var settleDelay: Duration
        public var maximumDeferral: Duration
        public var minimumInterval: Duration
        public var maximumInterval: Duration
        public var largestRepairableGap: UInt32
        /// FTFW: gaps are NACKed again. NOTRACK has no NACK.
        public var renacks: Bool
        /// Off only for tests that show what the sender alone repairs (the control).
        public var enabled: Bool
        /// Ranges remembered for their second NACK; past this the resync covers them.
        public var pendingRenackLimit: Int

        public init(renackDelay: Duration = .milliseconds(250), settleDelay: Duration = .seconds(1),
                    maximumDeferral: Duration = .seconds(5), minimumInterval: Duration = .seconds(5),
                    maximumInterval: Duration = .seconds(60), largestRepairableGap: UInt32 = SequenceTracker.largestGap,
                    renacks: Bool = true, enabled: Bool = true, pendingRenackLimit: Int = 1024) {
            self.renackDelay = renackDelay
            self.settleDelay = settleDelay
            self.maximumDeferral = maximumDeferral
            self.minimumInterval = minimumInterval
            self.maximumInterval = max(minimumInterval, maximumInterval)
            self.largestRepairableGap = largestRepairableGap
            self.renacks = renacks
            self.enabled = enabled
            self.pendingRenackLimit = max(0, pendingRenackLimit)
        }
    }

    /// Encodable: `tandem status --json` shows them as they are.
    public struct Counters: Hashable, Sendable, Encodable {
        /// Gaps seen (each a NACK in FTFW).
        public var gaps = 0
        /// Messages missing in those gaps: the true count, never the jumps below.
        public var messagesLost = 0
        /// Forward jumps too large to be loss (counted, not added to `messagesLost`).
        public var jumps = 0
        public var renacksSent = 0
        /// Gaps whose second NACK was not sent because too many were pending.
        public var renacksSkipped = 0
        public var resyncRequests = 0
        /// Messages missing in the gaps that resync requests were made for: what the
        /// peer's whole table, rather than its resends, brings back.
        public var messagesCoveredByResync = 0
        /// External-cache flows that a whole table, arrived after a resync for gaps, no
        /// longer held: their destroys were lost in a gap.
        public var staleFlowsRemoved = 0

        public init() {}
    }

    /// Why a resync was asked for, for the log line.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public var gaps: Int
        public var messages: Int
        public var jumps: Int
        /// How long ago the first of these gaps was seen.
        public var age: Duration

        public var description: String {
            var parts: [String] = []
            if gaps > 0 { parts.append("\(gaps) sequence gap(s), \(messages) message(s) missing") }
            if jumps > 0 { parts.append("\(jumps) sequence jump(s) too large to be loss") }
            let ms = age.nanosecondCount / 1_000_000
            return parts.joined(separator: " and ") + " since \(ms) ms ago; resends cannot be matched to gaps"
        }
    }

    public enum Action: Hashable, Sendable {
        case nack(ClosedRangeOfSequences)
        case requestResync(Reason)
    }

    struct PendingNack: Hashable, Sendable {
        var due: Instant
        var range: ClosedRangeOfSequences
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    private var renackQueue: [PendingNack] = []
    private var renackHead = 0
    /// Gaps not yet covered by a resync request.
    private var open = Reason(gaps: 0, messages: 0, jumps: 0, age: .zero)
    private var firstOpenGap: Instant?
    private var lastGap = Instant.zero
    private var lastRequest: Instant?
    private var interval: Duration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        interval = configuration.minimumInterval
    }

    /// Whether gaps are waiting for a resync request.
    public var hasOpenGaps: Bool { firstOpenGap != nil }

    /// The messages between `range.from` and `range.to` never arrived (seen at `now`).
    public mutating func gap(_ range: ClosedRangeOfSequences, now: Instant) {
        let size = range.to &- range.from &+ 1
        lastGap = now
        if firstOpenGap == nil { firstOpenGap = now }
        if size > configuration.largestRepairableGap || size == 0 {
            counters.jumps += 1
            open.jumps += 1
            return
        }
        counters.gaps += 1
        counters.messagesLost += Int(size)
        open.gaps += 1
        open.messages += Int(size)
        guard configuration.enabled && configuration.renacks else { return }
        if renackQueue.count - renackHead >= configuration.pendingRenackLimit {
            counters.renacksSkipped += 1
            return
        }
        renackQueue.append(PendingNack(due: now + configuration.renackDelay, range: range))
    }

    /// The owner removed flows the peer's table no longer held.
    public mutating func recordStaleRemoved(_ count: Int) { counters.staleFlowsRemoved += count }

    /// When `fire` next has something to do.
    public var nextDeadline: Instant? {
        guard configuration.enabled else { return nil }
        var d: Instant?
        if renackHead < renackQueue.count { d = renackQueue[renackHead].due }
        if let r = resyncDue { d = min(d ?? r, r) }
        return d
    }

    private var resyncDue: Instant? {
        guard let first = firstOpenGap else { return nil }
        var due = min(lastGap + configuration.settleDelay, first + configuration.maximumDeferral)
        if let last = lastRequest { due = max(due, last + interval) }
        return due
    }

    public mutating func fire(now: Instant) -> [Action] {
        guard configuration.enabled else { return [] }
        var actions: [Action] = []
        while renackHead < renackQueue.count, renackQueue[renackHead].due <= now {
            actions.append(.nack(renackQueue[renackHead].range))
            counters.renacksSent += 1
            renackHead += 1
        }
        if renackHead == renackQueue.count {
            renackQueue.removeAll(keepingCapacity: true)
            renackHead = 0
        }
        if let due = resyncDue, now >= due, let first = firstOpenGap {
            // Gaps that began within the longest spacing of the last request mean the link
            // is still lossy: space the next request further. A quiet spell resets it.
            if let last = lastRequest, first - last < configuration.maximumInterval {
                interval = min(interval * 2, configuration.maximumInterval)
            } else {
                interval = configuration.minimumInterval
            }
            var reason = open
            reason.age = now - first
            actions.append(.requestResync(reason))
            counters.resyncRequests += 1
            counters.messagesCoveredByResync += open.messages
            open = Reason(gaps: 0, messages: 0, jumps: 0, age: .zero)
            firstOpenGap = nil
            lastRequest = now
        }
        return actions
    }
}
