import Timekeeping

/// conntrackd's reliable mode (FTFW, spec §3.3) as a pure state machine: fed received
/// messages, object changes and the time, it returns the messages to send and the data
/// to apply. No sockets, no clock of its own: tests drive it with a virtual clock.
///
/// Objects are identified by `Key`; the owner renders an object's current state when the
/// engine transmits it, so a retransmission always carries the newest state. Each
/// object's place (queued, or sent under a sequence number) is kept in an
/// `FTFWObjectPlaces` the owner passes in (the daemon keeps it in its flow cache's
/// entries), or, through the methods without `places:`, in an index the engine owns.
public struct FTFWEngine<Key: Hashable & Sendable>: Sendable {
    public struct Configuration: Hashable, Sendable {
        public var ackWindowSize: Int
        public var resendQueueSize: Int
        /// conntrackd's alive timer: fixed at one second.
        public var aliveInterval: Duration
        /// Tandem: send state only once the peer answered our HELLO. A receiver skips the
        /// sequence check on HELLO-marked messages, so state sent before the handshake
        /// completes could be lost without a NACK (conntrackd 1.4.7 has that hole).
        public var holdDataUntilHandshake: Bool
        /// Tandem: when the peer restarts (HELLO), re-send the objects still waiting for its
        /// ACK instead of dropping them as conntrackd 1.4.7 does.
        public var resendToRestartedPeer: Bool
        /// Tandem: a full resend queue stops the sending of state until the peer
        /// acknowledges some. conntrackd 1.4.7 drops the oldest unacknowledged entry
        /// instead, so a bulk send larger than the queue loses whatever the peer then
        /// NACKs from the dropped part.
        public var backPressure: Bool
        /// Tandem, with back-pressure: the number of unacknowledged messages follows the
        /// peer's NACKs (`SendWindow`) instead of staying at the resend queue's size.
        public var lossBackoff: Bool
        /// How many objects the owner expects to have in flight at once (its table size):
        /// the engine's own index (used without `places:`) is sized for them up front, as
        /// conntrackd sizes its hash, so a bulk send never rehashes it on the way.
        public var expectedObjects: Int
        /// Tandem: received data is acknowledged within this delay, not only when the window
        /// fills or after a second of our own silence (conntrackd 1.4.7; nil). The sender's
        /// replication lag is read from our ACKs (`LagProbe`), and its resend queue empties
        /// sooner; it costs at most one ACK per delay.
        public var acknowledgementDelay: Duration?
        /// Tandem hardening (docs/sync-hardening.md): an ACK naming sequence numbers never
        /// sent is refused, and a HELLO's resend-queue flush or a wide NACK is served at
        /// most once a second (`ControlMessageRateLimit`).
        public var hardened: Bool
        /// Tandem: a message of ours that the peer's ACKs have passed over (they start
        /// after it) without acknowledging it is lost, and so is the NACK that would have
        /// said so, or it was refused (hardening). conntrackd never learns of it and keeps
        /// it in its resend queue; under back-pressure enough of them stop all sending for
        /// good (seen: 10k flows through 20% loss, the peer left with none). Such messages
        /// are sent again once they have been passed over for `passedOverWait`, or for an
        /// alive interval when they span a wide NACK's worth of sequence numbers.
        public var retransmitsPassedOver: Bool
        /// How long a narrow passed-over range waits for a reordered ACK before it is sent
        /// again. conntrackd never NACKs a gap twice, so against it each round of a loss
        /// repeated cost a whole alive interval (Tandem → conntrackd through 20% loss
        /// took 3.5 s for 100k flows, against 1.0 s Tandem → Tandem).
        public var passedOverWait: Duration

        public init(ackWindowSize: Int = 300, resendQueueSize: Int = 131072, aliveInterval: Duration = .seconds(1),
                    holdDataUntilHandshake: Bool = true, resendToRestartedPeer: Bool = true, backPressure: Bool = true,
                    lossBackoff: Bool = true, expectedObjects: Int = 0, acknowledgementDelay: Duration? = nil, hardened: Bool = false,
                    retransmitsPassedOver: Bool = true, passedOverWait: Duration = .milliseconds(200)) {
            self.ackWindowSize = max(1, ackWindowSize)
            self.resendQueueSize = max(1, resendQueueSize)
            self.aliveInterval = aliveInterval
            self.holdDataUntilHandshake = holdDataUntilHandshake
            self.resendToRestartedPeer = resendToRestartedPeer
            self.backPressure = backPressure
            self.lossBackoff = lossBackoff
            self.expectedObjects = max(0, expectedObjects)
            self.acknowledgementDelay = acknowledgementDelay
            self.hardened = hardened
            self.retransmitsPassedOver = retransmitsPassedOver
            self.passedOverWait = passedOverWait
        }

        /// conntrackd 1.4.7's behaviour exactly, for interop transcripts.
        public static func compatible(ackWindowSize: Int = 300, resendQueueSize: Int = 131072) -> Configuration {
            Configuration(ackWindowSize: ackWindowSize, resendQueueSize: resendQueueSize,
                          holdDataUntilHandshake: false, resendToRestartedPeer: false, backPressure: false,
                          retransmitsPassedOver: false)
        }
    }

    public enum HelloState: Hashable, Sendable { case initial, saying, done }

    public typealias Event = SyncEngineEvent

    public struct Counters: Hashable, Sendable {
        public var transmitted = 0
        public var retransmitted = 0
        /// Resend-queue overflow ("not enough space errors"): the oldest entry was dropped.
        public var resendQueueOverflows = 0
        /// Transmit runs that stopped early because the resend queue was full.
        public var backPressureStalls = 0
        public var acksSent = 0
        public var nacksSent = 0
        public var malformedHeader = 0
        public var helloFlushes = 0
        /// Hardening refusals (see `Configuration.hardened`).
        public var acknowledgementsBeyondSent = 0
        public var rateLimited = 0
        /// Messages sent again because the peer's ACKs had passed over them.
        public var passedOverRetransmissions = 0
    }

    enum Pending: Hashable, Sendable {
        case object(Key)
        /// In the resend queue only: an object whose message was its last (a destroy).
        /// Only these are looked up when the peer acknowledges them, to be released.
        case finalObject(Key)
        case control(SyncFlags, ClosedRangeOfSequences?)
        /// The ALIVE that ends a resync answer: unlike other control messages it never
        /// overtakes an object held back (handshake fence, back-pressure), or the peer would
        /// take its table as arrived before it was sent.
        case endOfTable
        /// The ACK of a restarted peer's fence: its data waits for it, so it is never held,
        /// even where other ACKs wait (see `transmit`).
        case fenceAcknowledgement(ClosedRangeOfSequences)

        var objectKey: Key? {
            switch self {
            case .object(let k), .finalObject(let k): k
            case .control, .endOfTable, .fenceAcknowledgement: nil
            }
        }
    }

    public let configuration: Configuration
    public private(set) var tracker = SequenceTracker()
    public private(set) var hello: HelloState = .initial
    public private(set) var counters = Counters()
    /// The alive timer's next tick.
    private var aliveDeadline: Instant
    /// When the data received since our last ACK must be acknowledged (`acknowledgementDelay`).
    private var acknowledgementDue: Instant?
    public var nextDeadline: Instant { acknowledgementDue.map { min($0, aliveDeadline) } ?? aliveDeadline }
    /// Replication lag, sampled: the owner names a flow it queued, the engine notes its
    /// transmission, the owner hands it the peer's ACKs.
    public var lagProbe = LagProbe<Key>()
    public private(set) var lastResyncSequence: UInt32?
    private var sayHelloBack = false
    /// After our HELLO_BACK, the peer's next ALIVE (its fence: its data waits for our ACK
    /// of it) is acknowledged at once. The window or the alive timer would send that ACK
    /// late, or, while we send every second, never.
    private var acknowledgeFence = false
    private var window: Int
    private var ackFrom: UInt32?
    /// Whether something arrived since our last ACK that the peer may wait on: anything
    /// but a bare ACK or ALIVE. Only that is acknowledged within `acknowledgementDelay`;
    /// bare ones wait for the window or the alive tick, as conntrackd's do. Acknowledging
    /// them promptly too, two Tandem peers acknowledged each other's ACKs every 5 ms for
    /// as long as they ran: 190 datagrams a second on the link and 1% of a CPU each, idle
    /// (bench/idle-pair.sh).
    private var promptAcknowledgement = false
    private var nextSequence: UInt32
    /// Objects waiting to go out, in order, from `objectHead`.
    private var objectQueue: [Key] = []
    private var objectHead = 0
    /// Objects taken from `objectQueue` since the engine began: the ticket of the next.
    private var objectsTaken = 0
    /// Everything else waiting to go out (ACK, NACK, ALIVE, resync requests, table ends),
    /// in order from `controlHead`, each with its ticket: the objects queued before it,
    /// which it follows unless they are held. A run that must hold objects (back-pressure,
    /// the handshake) holds them all where they are and goes on with these alone: walking
    /// the held objects to reach the controls queued behind them, and copying them back,
    /// was most of a sender's CPU while a lossy link kept its window shut.
    private var controlQueue: [(ticket: Int, entry: Pending)] = []
    private var controlHead = 0
    private var ownPlaces: FTFWPlaceIndex<Key>
    private var resend = ResendQueue<Pending>()
    /// The unacknowledged messages allowed out under back-pressure.
    public private(set) var sendWindow: SendWindow
    private var released: [Key] = []
    /// After our handshake completes, state waits until the peer acknowledges this
    /// sequence number (our first message without HELLO): a HELLO-marked message of ours
    /// still in flight would otherwise skip the peer's sequence check after our state and
    /// rewind its acknowledgement window over messages it never got.
    private var fence: UInt32?
    private var fenceSent = false
    /// Since when a resync answer's end has been held (back-pressure or the handshake).
    private var endHeldSince: Instant?

    /// How long idle ticks wait behind a held table end before they go anyway.
    static func endHoldLimit(_ c: Configuration) -> Duration { c.aliveInterval * 2 }
    /// The costly control messages' limit (hardening), and the time the owner last gave.
    private var costlyControl = ControlMessageRateLimit()
    private var receiveClock = Instant.zero
    /// The first ACK that passed over a message of ours still unacknowledged: where its
    /// range began, and when it came (the receive clock).
    private var passedOver: (before: UInt32, since: Instant)?

    public init(configuration: Configuration = Configuration(), firstSequence: UInt32, now: Instant) {
        self.configuration = configuration
        window = configuration.ackWindowSize
        nextSequence = firstSequence
        aliveDeadline = now + configuration.aliveInterval
        ownPlaces = FTFWPlaceIndex(minimumCapacity: configuration.expectedObjects)
        // Never below a few acknowledgement windows: the peer ACKs every `ackWindowSize`.
        sendWindow = SendWindow(ceiling: configuration.resendQueueSize, floor: max(4 * configuration.ackWindowSize, 1024))
    }

    public var hasPendingTransmit: Bool { objectHead < objectQueue.count || controlHead < controlQueue.count }

    private mutating func queue(_ entry: Pending) {
        if let key = entry.objectKey {
            objectQueue.append(key)
        } else {
            controlQueue.append((objectsTaken + objectQueue.count - objectHead, entry))
        }
    }
    public var resendQueueCount: Int { resend.count }
    public var transmitQueueCount: Int { objectQueue.count - objectHead + controlQueue.count - controlHead }

    /// The resend queue in order, for `conntrackd -s rsqueue`.
    public var resendQueueEntries: [(sequence: UInt32, control: SyncFlags?)] {
        resend.ordered.map { item in
            switch item.entry {
            case .control(let flags, _): (item.sequence, flags)
            case .fenceAcknowledgement: (item.sequence, .ack)
            default: (item.sequence, nil)
            }
        }
    }

    // MARK: sending side

    /// An object changed: (re)send it. One pending transmission per object, so changes
    /// made before the next transmit run coalesce.
    public mutating func enqueue<P: FTFWObjectPlaces>(_ key: Key, places: inout P) where P.Key == Key {
        guard let slot = places.slot(of: key) else { return }
        enqueue(key, at: slot, places: &places)
    }

    /// `enqueue` for an owner that has just found the object itself.
    public mutating func enqueue<P: FTFWObjectPlaces>(_ key: Key, at slot: P.Slot, places: inout P) where P.Key == Key {
        switch places[place: slot] {
        case .queued: return
        case .awaitingAcknowledgement(let seq): resend.remove(sequence: seq)
        case .idle: break
        }
        places[place: slot] = .queued
        queue(.object(key))
    }

    public mutating func enqueue(_ key: Key) {
        var places = takeOwnPlaces()
        enqueue(key, places: &places)
        ownPlaces = places
    }

    /// The engine's own index, moved out for a call that takes `places:` (and put back
    /// after it), so it is never copied.
    private mutating func takeOwnPlaces() -> FTFWPlaceIndex<Key> {
        var places = FTFWPlaceIndex<Key>()
        swap(&places, &ownPlaces)
        return places
    }

    /// `conntrackd -n`: ask the peer for its internal cache.
    public mutating func requestResync() {
        queue(.control(.resync, ClosedRangeOfSequences(from: 0, to: 0)))
    }

    /// Acknowledges at once what the peer has sent so far, its resync request included.
    /// The alive timer, which would otherwise send this ACK, fires only when we have been
    /// quiet for a second: a node replicating steady churn never is, and the peer, waiting
    /// for proof that its request was taken, would wait for ever.
    public mutating func acknowledgeReceived() {
        guard let from = ackFrom, tracker.isSet else { return }
        queue(.control(.ack, acknowledgement(from: from, to: tracker.last)))
        window = configuration.ackWindowSize
        forgetUnacknowledged()
    }

    /// Acknowledges `range` alone, outside the receive window: messages the owner took
    /// itself (a resync request held while the peer's new line was confirmed).
    public mutating func acknowledge(_ range: ClosedRangeOfSequences) {
        queue(.control(.ack, range))
    }

    /// An ALIVE queued behind a resync answer's table. The peer counts the table as
    /// arrived at the first idle tick after its request was acknowledged; a node under
    /// steady churn never idles, so the answer ends with that tick itself.
    public mutating func markEndOfTable() {
        queue(.endOfTable)
    }

    /// Set while the owner queues a resync answer over several turns (`answering`).
    public private(set) var answeringTable = false
    /// The request being answered, which every ACK meanwhile reaches back to.
    private var answeredRequest: UInt32?
    /// The sequence number of the peer's latest resync request.
    public private(set) var resyncRequestReceived: UInt32?

    /// The owner queues the answer to the peer's request `request` a slice a turn, and
    /// marks its end when all is queued. The peer takes the first idle tick after its
    /// request's ACK as the table's end, and counts as a tick any ACK that does not cover
    /// its request (`ResyncProgress`, which must also read a conntrackd peer's timer ACKs
    /// so). Meanwhile, then, no ALIVE goes out and each ACK's range starts at the request:
    /// acknowledging again what was acknowledged costs the peer nothing. Only while
    /// everything since the request has arrived: after a gap, or a restart of the peer's
    /// line, ACKs are plain again (never acknowledging a lost message outweighs the rest).
    public mutating func answering(request: UInt32?) {
        answeringTable = true
        answeredRequest = request
        answerEndQueued = false
    }

    /// The answer's end is queued: ticks and ACKs as usual again once it has gone out
    /// (an ACK overtaking a held end would be taken for it).
    public mutating func answered() {
        answerEndQueued = true
    }

    private var answerEndQueued = false

    /// An ACK of `from ... to`, reaching back to the request being answered (`answering`).
    private func acknowledgement(from: UInt32, to: UInt32) -> ClosedRangeOfSequences {
        if answeringTable, let r = answeredRequest, sequence(r, isBefore: from) {
            return ClosedRangeOfSequences(from: r, to: to)
        }
        return ClosedRangeOfSequences(from: from, to: to)
    }

    /// Asks the peer again for messages it was NACKed for once (see `GapRepair`).
    public mutating func requestRetransmission(_ range: ClosedRangeOfSequences) {
        queue(.control(.nack, range))
    }

    /// Final objects (their last message was a destroy) the peer has acknowledged, or
    /// that were dropped from the resend queue or for a restarted peer: the owner may now
    /// forget them.
    public mutating func takeReleased<P: FTFWObjectPlaces>(places: P) -> [Key] where P.Key == Key {
        defer { released.removeAll(keepingCapacity: true) }
        // A key released earlier may have been queued again since: it is not free.
        return released.filter { k in places.slot(of: k).map { places[place: $0] == .idle } ?? true }
    }

    public mutating func takeReleased() -> [Key] { takeReleased(places: ownPlaces) }

    /// Forgets the released objects unseen: for an owner with nothing to free.
    public mutating func discardReleased() { released.removeAll(keepingCapacity: true) }

    /// Drains the transmit queue: each entry gets a fresh sequence number and the HELLO
    /// marking; ACK/NACK/RESYNC and objects then wait in the resend queue. `render`
    /// returns an object's current message (type and body), or nil if it is gone.
    public mutating func transmit(now: Instant, render: (Key) -> (SyncMessageType, SyncMessage.Body)?) -> [SyncMessage] {
        var out: [SyncMessage] = []
        transmit(now: now, render: render) { out.append($0) }
        return out
    }

    /// `transmit`, handing each message to `emit` as it is made.
    public mutating func transmit(now: Instant, limit: Int = .max, render: (Key) -> (SyncMessageType, SyncMessage.Body)?,
                                  emit: (SyncMessage) -> Void) {
        var places = takeOwnPlaces()
        transmit(now: now, limit: limit, places: &places, render: { key, _, _ in render(key) },
                 emitObject: { type, flags, seq, body in emit(SyncMessage(type: type, flags: flags, sequence: seq, body: body)) },
                 emitControl: { emit(.control($0)) })
        ownPlaces = places
    }

    /// The transmit run itself. `render` sees the object where `places` holds it and
    /// returns its message type and whatever the owner needs to encode it (nil: gone);
    /// `emitObject` gets that back with the header's flags and sequence number, so the
    /// owner can encode straight into a datagram without building a message first.
    ///
    /// `limit` bounds the objects sent in this run (the rest stay queued, in order): an
    /// owner still reading a burst from the kernel sends in slices between reads.
    public mutating func transmit<P: FTFWObjectPlaces, Payload>(
        now: Instant, limit: Int = .max, places: inout P,
        render: (Key, P.Slot, P) -> (SyncMessageType, Payload)?,
        emitObject: (SyncMessageType, SyncFlags, UInt32, Payload) -> Void,
        emitControl: (ControlMessage) -> Void
    ) where P.Key == Key {
        var sent = 0
        var objectsSent = 0
        // Controls this run held back, in order; objects are held where they are.
        var heldControls: [(ticket: Int, entry: Pending)] = []
        var objectsHeld = false
        var heldEndOfTable = false
        let holding = configuration.holdDataUntilHandshake && (hello != .done || fence != nil)
        var stalled = false
        // While a table's end of ours waits for the handshake, the fence goes first, as an
        // ALIVE: the peer acknowledges an ALIVE fence at once, with an ACK no hold of its
        // own stops. Taken by a queued ACK (of the peer's resync request, say) it would be
        // acknowledged only by the peer's idle ticks, which a peer answering our request
        // holds behind its own table's end until its fence is acknowledged, by our idle
        // ticks, held behind ours: two nodes answering each other's resync waited on each
        // other for ever. Without a table's end queued the fence stays whatever message
        // takes its number, as conntrackd's handshake has it on the wire.
        if holding, hello == .done, fence != nil, !fenceSent,
           controlQueue[controlHead...].contains(where: { if case .endOfTable = $0.entry { true } else { false } }) {
            emitControl(ControlMessage(flags: SyncFlags.alive.union(markHello()), sequence: takeSequence()))
            sent += 1
            counters.transmitted += 1
        }
        var heldAny = false
        while objectsSent < limit {
            let objectWaits = objectHead < objectQueue.count
            // A control goes when no object is queued before it, or when those are held.
            if controlHead < controlQueue.count, controlQueue[controlHead].ticket <= objectsTaken || objectsHeld || !objectWaits {
                let (ticket, entry) = controlQueue[controlHead]
                controlHead += 1
                if case .endOfTable = entry, holding || objectsHeld || !heldControls.isEmpty {
                    heldAny = true
                    heldControls.append((ticket, entry))
                    heldEndOfTable = true
                    continue
                }
                // Nor does an idle tick (ACK, ALIVE) while a table's end is held: the peer
                // would take it for the end (it counts its table as arrived at the first tick
                // after its request was acknowledged). The handshake needs only the fence's ACK,
                // which goes out. Back-pressure waits on the peer's ACKs, not on ours; but a
                // peer stalled on its own full queue may wait on ours (two nodes answering each
                // other's resync), so after `endHoldLimit` the ticks go anyway: an early end
                // for the peer rather than a deadlock. That holds during our handshake too: if
                // both fences are lost, only ticks get either handshake going again.
                if heldEndOfTable, case .control(let flags, _) = entry, !flags.isDisjoint(with: [.ack, .alive]),
                   endHeldSince.map({ now - $0 < Self.endHoldLimit(configuration) }) ?? true {
                    heldAny = true
                    heldControls.append((ticket, entry))
                    continue
                }
                sendControl(entry, places: &places, emit: emitControl)
                sent += 1
                counters.transmitted += 1
                continue
            }
            guard objectWaits, !objectsHeld else { break }
            if holding {
                heldAny = true
                objectsHeld = true
                continue
            }
            // Control messages still go out: the peer's ACKs, which free the queue, may
            // wait for ours.
            if configuration.backPressure, resend.count >= sendWindow.limit {
                stalled = true
                heldAny = true
                objectsHeld = true
                continue
            }
            let key = objectQueue[objectHead]
            objectHead += 1
            objectsTaken += 1
            guard let slot = places.slot(of: key), places[place: slot] == .queued else { continue }
            guard let (type, payload) = render(key, slot, places) else {
                places[place: slot] = .idle
                continue
            }
            let seq = takeSequence()
            if let followed = lagProbe.followedKey, followed == key { lagProbe.transmitted(sequence: seq) }
            emitObject(type, markHello(), seq, payload)
            sent += 1
            objectsSent += 1
            places[place: slot] = .awaitingAcknowledgement(seq)
            let final = type == .flowDestroy || type == .expectationDestroy
            storeForResend(seq, final ? .finalObject(key) : .object(key), places: &places)
            counters.transmitted += 1
        }
        if !heldControls.isEmpty {
            // Back in front of what was not reached, in the slots this run emptied: the
            // held controls came from there, so they fit, and nothing else moves.
            let start = controlHead - heldControls.count
            for (i, held) in heldControls.enumerated() { controlQueue[start + i] = held }
            controlHead = start
        }
        Self.dropSent(&objectQueue, head: &objectHead)
        Self.dropSent(&controlQueue, head: &controlHead)
        if stalled { counters.backPressureStalls += 1 }
        if heldEndOfTable {
            if endHeldSince == nil { endHeldSince = now }
        } else {
            endHeldSince = nil
        }
        if heldAny {
            // Start the handshake, or send the fence, now rather than at the next alive tick.
            if sent == 0 && (hello == .initial || (hello == .done && !fenceSent)) {
                if hello == .done { fenceSent = true }
                emitControl(ControlMessage(flags: SyncFlags.alive.union(markHello()), sequence: takeSequence()))
                sent += 1
                counters.transmitted += 1
            }
        }
        // Only a run that sent something re-arms the alive timer.
        if sent > 0 { aliveDeadline = now + configuration.aliveInterval }
    }

    /// A control message of the transmit run, with its sequence number and HELLO marking.
    private mutating func sendControl<P: FTFWObjectPlaces>(_ entry: Pending, places: inout P,
                                                           emit: (ControlMessage) -> Void) where P.Key == Key {
        switch entry {
        case .control(let flags, let range):
            let seq = takeSequence()
            if flags.contains(.resync) { lastResyncSequence = seq }
            emit(ControlMessage(flags: flags.union(markHello()), sequence: seq, range: range))
            if flags.contains(.ack) { counters.acksSent += 1 }
            if flags.contains(.nack) { counters.nacksSent += 1 }
            if range != nil { storeForResend(seq, entry, places: &places) }
        case .endOfTable:
            emit(ControlMessage(flags: SyncFlags.alive.union(markHello()), sequence: takeSequence()))
            if answerEndQueued {
                answeringTable = false
                answeredRequest = nil
                answerEndQueued = false
            }
        case .fenceAcknowledgement(let range):
            let seq = takeSequence()
            emit(ControlMessage(flags: SyncFlags.ack.union(markHello()), sequence: seq, range: range))
            counters.acksSent += 1
            storeForResend(seq, entry, places: &places)
        case .object, .finalObject:
            preconditionFailure("an object in the control queue")
        }
    }

    /// Forgets a queue's entries before `head` once they are most of it (or all).
    private static func dropSent<T>(_ queue: inout [T], head: inout Int) {
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }

    /// The alive timer: acknowledge what is unacknowledged, or say we are alive.
    public mutating func fire(now: Instant) {
        if let delay = configuration.acknowledgementDelay {
            if ackFrom == nil || !tracker.isSet || !promptAcknowledgement {
                acknowledgementDue = nil
            } else if let due = acknowledgementDue {
                if now >= due {
                    acknowledgeReceived()
                    acknowledgementDue = nil
                }
            } else {
                acknowledgementDue = now + delay
            }
        }
        guard now >= aliveDeadline else { return }
        if let from = ackFrom, tracker.isSet {
            queue(.control(.ack, acknowledgement(from: from, to: tracker.last)))
            forgetUnacknowledged()
        } else if let since = endHeldSince, now - since < Self.endHoldLimit(configuration) {
            // An ALIVE would wait behind the held end with the others: one is enough, and
            // the end itself is one. Past the limit ticks go again, and so does this one.
        } else if answeringTable {
            // The owner is still queuing a resync answer slice by slice: a tick between two
            // slices would tell the peer its table had all arrived.
        } else {
            queue(.control(.alive, nil))
        }
        aliveDeadline = now + configuration.aliveInterval
    }

    private mutating func takeSequence() -> UInt32 {
        defer { nextSequence &+= 1 }
        // Whatever message takes the fence's number is the fence: no ALIVE is needed for it.
        if nextSequence == fence { fenceSent = true }
        return nextSequence
    }

    private mutating func markHello() -> SyncFlags {
        var flags: SyncFlags = []
        if hello == .initial { hello = .saying }
        if hello == .saying { flags.insert(.hello) }
        if sayHelloBack {
            flags.insert(.helloBack)
            sayHelloBack = false
            acknowledgeFence = true
        }
        return flags
    }

    private mutating func storeForResend<P: FTFWObjectPlaces>(_ seq: UInt32, _ entry: Pending, places: inout P) where P.Key == Key {
        // Under back-pressure only control messages get here with the queue full; they
        // may exceed it (a few per second) rather than push out state.
        if !configuration.backPressure, resend.count >= configuration.resendQueueSize, let dropped = resend.removeOldest() {
            counters.resendQueueOverflows += 1
            settle(dropped, places: &places)
        }
        resend.append(sequence: seq, entry)
    }

    /// A transmission leaves the resend queue for good (acknowledged, or dropped): the
    /// object is done unless sent again since; a final one goes to `released`.
    private mutating func settle<P: FTFWObjectPlaces>(_ item: ResendQueue<Pending>.Item, places: inout P) where P.Key == Key {
        switch item.entry {
        case .object(let k):
            places.acknowledged(k, sequence: item.sequence)
        case .finalObject(let k):
            guard let slot = places.slot(of: k), places[place: slot] == .awaitingAcknowledgement(item.sequence) else { return }
            places[place: slot] = .idle
            released.append(k)
        case .control, .endOfTable, .fenceAcknowledgement:
            break
        }
    }

    // MARK: receiving side

    /// The time of the messages about to be received (the rate limit's clock).
    public mutating func receiving(at now: Instant) { receiveClock = now }

    /// Hardening: a gap was found forged (`SequenceJumpGuard.Verdict.resumeOldLine`): the
    /// peer's line is expected at `s` again, and nothing of the forged line is acknowledged.
    public mutating func resumeLine(expecting s: UInt32) {
        tracker.accept(s &- 1)
        forgetUnacknowledged()
        window = configuration.ackWindowSize
    }

    /// A transmission the peer lost goes out again: an object's current state, if this was
    /// its latest transmission (a queued object goes out anyway), or the control message.
    private mutating func retransmit<P: FTFWObjectPlaces>(_ entry: ResendQueue<Pending>.Item, places: inout P) where P.Key == Key {
        if let k = entry.entry.objectKey {
            guard let slot = places.slot(of: k), places[place: slot] == .awaitingAcknowledgement(entry.sequence) else { return }
            places[place: slot] = .queued
            queue(.object(k))
        } else {
            queue(entry.entry)
        }
        counters.retransmitted += 1
    }

    /// The peer acknowledged a range starting at `from`. What it passed over a while ago
    /// (`passedOverWait`, or an alive interval for a wide range) and has still not
    /// acknowledged is lost (`retransmitsPassedOver`): an ACK that overtook another has had
    /// its time to be overtaken back. So a forged ACK buys no more than a NACK does.
    private mutating func notePassedOver<P: FTFWObjectPlaces>(before from: UInt32, places: inout P) where P.Key == Key {
        if let p = passedOver {
            let passed = resend.oldestSequence.flatMap { oldest in
                sequence(oldest, isBefore: p.before) ? ClosedRangeOfSequences(from: oldest, to: p.before &- 1) : nil
            }
            // A narrow range goes again as soon as a reordered ACK would have come, as a
            // narrow NACK is served at once; a wide one (a forged ACK can pass over the
            // whole queue) waits an interval, as a wide NACK is served once an interval.
            let wide = passed.map(ControlMessageRateLimit.isWide) ?? false
            if receiveClock - p.since >= (wide ? configuration.aliveInterval : configuration.passedOverWait) {
                passedOver = nil
                for entry in passed.map({ resend.remove(in: $0) }) ?? [] {
                    // Our resync request: gap repair asks again on its own schedule, and
                    // the peer answers one at most a second.
                    if case .control(let flags, _) = entry.entry, flags.contains(.resync) { continue }
                    counters.passedOverRetransmissions += 1
                    retransmit(entry, places: &places)
                }
            }
        }
        if passedOver == nil, let oldest = resend.oldestSequence, sequence(oldest, isBefore: from) {
            passedOver = (from, receiveClock)
        }
    }

    /// Whether a costly piece of work asked for by the peer may be done now.
    private mutating func permitsCostly() -> Bool {
        guard configuration.hardened else { return true }
        if costlyControl.permit(.resendQueueFlush, now: receiveClock) { return true }
        counters.rateLimited += 1
        return false
    }

    public mutating func receive(_ m: SyncMessage) -> [Event] {
        var events: [Event] = []
        if receive(m, events: &events) { events.append(.apply(m)) }
        return events
    }

    public mutating func receive(_ m: SyncMessage, events: inout [Event]) -> Bool {
        var places = takeOwnPlaces()
        defer { ownPlaces = places }
        return receive(m, places: &places, events: &events)
    }

    /// `receive` for the daemon's hot path: returns whether to apply `m` (what
    /// `.apply(m)` would say, without copying the message into an event) and appends
    /// the other events, which are rare, to `events`.
    public mutating func receive<P: FTFWObjectPlaces>(_ m: SyncMessage, places: inout P, events: inout [Event]) -> Bool where P.Key == Key {
        if case .control = m.body { return receive(flags: m.flags, sequence: m.sequence, control: m, places: &places, events: &events) }
        return receive(flags: m.flags, sequence: m.sequence, control: nil, places: &places, events: &events)
    }

    /// `receive` for a state message known by its header alone: an owner that decodes
    /// the payload itself (straight into its cache's form) never builds the message.
    public mutating func receiveData<P: FTFWObjectPlaces>(flags: SyncFlags, sequence: UInt32, places: inout P,
                                                        events: inout [Event]) -> Bool where P.Key == Key {
        receive(flags: flags, sequence: sequence, control: nil, places: &places, events: &events)
    }

    /// The receiving side: `control` is the message when it is a control message, nil
    /// for a state message (which is always applied unless its sequence is old).
    private mutating func receive<P: FTFWObjectPlaces>(flags: SyncFlags, sequence seq: UInt32, control m: SyncMessage?,
                                                       places: inout P, events: inout [Event]) -> Bool where P.Key == Key {
        if flags.contains(.hello) {
            sayHelloBack = true
            events.append(.peerHello)
        }
        if flags.contains(.helloBack) && hello == .saying {
            hello = .done
            if configuration.holdDataUntilHandshake {
                fence = nextSequence
                fenceSent = false
            }
        }
        if flags.contains(.hello) {
            // The restarted peer cannot NACK what it never saw: pending resends are
            // dropped (conntrackd) or sent again (Tandem). Hardened, at most once a second:
            // every message of a restarting peer says HELLO, and so can a forger's.
            let flushing = resend.count == 0 || permitsCostly()
            if flushing { passedOver = nil }
            for dropped in flushing ? resend.removeAll() : [] {
                guard let k = dropped.entry.objectKey, let slot = places.slot(of: k),
                      places[place: slot] == .awaitingAcknowledgement(dropped.sequence) else { continue }
                if configuration.resendToRestartedPeer {
                    places[place: slot] = .queued
                    queue(.object(k))
                } else {
                    settle(dropped, places: &places)
                }
            }
            counters.helloFlushes += 1
            // The request being answered was on the old line.
            answeredRequest = nil
            return classifyAndWindow(m, sequence: seq, restartsLine: true, places: &places, events: &events)
        }
        switch tracker.classify(seq) {
        case .before:
            return false
        case .after:
            let expected = tracker.expected
            guard let apply = classify(m, places: &places, events: &events) else {
                counters.malformedHeader += 1
                events.append(.malformed(m!))
                return false
            }
            if let from = ackFrom {
                queue(.control(.ack, acknowledgement(from: from, to: expected &- 1)))
            }
            let missing = ClosedRangeOfSequences(from: expected, to: seq &- 1)
            queue(.control(.nack, missing))
            events.append(.sequenceGap(missing))
            // An ACK reaching back over the gap would acknowledge what never arrived.
            answeredRequest = nil
            window = configuration.ackWindowSize - 1
            ackFrom = seq
            promptAcknowledgement = Self.awaitsAcknowledgement(m)
            tracker.accept(seq)
            return apply
        case .unset, .inSync:
            return classifyAndWindow(m, sequence: seq, places: &places, events: &events)
        }
    }

    /// `restartsLine`: a HELLO, whose sequence may lie before what we were about to
    /// acknowledge (the peer restarted); the window then starts again at it. Only once the
    /// message is known good, when the tracker moves to it too: an ACK must never span
    /// from a refused message's sequence to the tracker's, which may lie before it.
    private mutating func classifyAndWindow<P: FTFWObjectPlaces>(_ m: SyncMessage?, sequence seq: UInt32, restartsLine: Bool = false,
                                                                 places: inout P, events: inout [Event]) -> Bool where P.Key == Key {
        guard let apply = classify(m, places: &places, events: &events) else {
            counters.malformedHeader += 1
            events.append(.malformed(m!))
            return false
        }
        if restartsLine, let from = ackFrom, sequence(seq, isBefore: from) {
            window = configuration.ackWindowSize - 1
            ackFrom = seq
        }
        if ackFrom == nil { ackFrom = seq }
        if Self.awaitsAcknowledgement(m) { promptAcknowledgement = true }
        window -= 1
        let fenceArrived = acknowledgeFence && m.map { $0.flags.contains(.alive) } == true
        if fenceArrived { acknowledgeFence = false }
        if fenceArrived {
            queue(.fenceAcknowledgement(ClosedRangeOfSequences(from: ackFrom!, to: seq)))
            window = configuration.ackWindowSize
            forgetUnacknowledged()
        } else if window <= 0 {
            queue(.control(.ack, acknowledgement(from: ackFrom!, to: seq)))
            window = configuration.ackWindowSize
            forgetUnacknowledged()
        }
        tracker.accept(seq)
        return apply
    }

    /// An ACK went out (or the line restarts): nothing is waiting to be acknowledged.
    private mutating func forgetUnacknowledged() {
        ackFrom = nil
        promptAcknowledgement = false
    }

    /// Data, a NACK, a resync request, or a HELLO (its HELLO_BACK rides on our next
    /// message): not a bare ACK or ALIVE. `nil` is data arriving without its message.
    static func awaitsAcknowledgement(_ m: SyncMessage?) -> Bool {
        guard let m, case .control(let c) = m.body else { return true }
        return c.flags.contains(.hello) || !c.flags.isDisjoint(with: [.nack, .resync]) || c.flags.isDisjoint(with: [.ack, .alive])
    }

    /// nil = BAD; true = a data message to apply; other outcomes go to `events`.
    private mutating func classify<P: FTFWObjectPlaces>(_ m: SyncMessage?, places: inout P, events: inout [Event]) -> Bool? where P.Key == Key {
        guard let m else { return true }
        switch m.body {
        case .flow, .expectation:
            return true
        case .control(let c):
            if c.flags.contains(.ack) {
                guard let r = c.range, r.isWellFormed else { return nil }
                // Nothing at or after `nextSequence` was ever sent: such an ACK is forged.
                if configuration.hardened, !sequence(r.to, isBefore: nextSequence) {
                    counters.acknowledgementsBeyondSent += 1
                    return false
                }
                if let f = fence, !sequence(r.to, isBefore: f) { fence = nil }
                let acknowledged = resend.remove(in: r)
                sendWindow.acknowledged(acknowledged.count)
                for entry in acknowledged { settle(entry, places: &places) }
                if configuration.retransmitsPassedOver { notePassedOver(before: r.from, places: &places) }
                events.append(.peerAcknowledged(r))
                return false
            }
            if c.flags.contains(.nack) {
                guard let r = c.range, r.isWellFormed else { return nil }
                if ControlMessageRateLimit.isWide(r), !permitsCostly() { return false }
                let inFlight = resend.count
                let lost = resend.remove(in: r)
                // Only a NACK naming messages still in flight is the peer's loss.
                if configuration.backPressure, configuration.lossBackoff, !lost.isEmpty {
                    sendWindow.lost(through: r.to, inFlight: inFlight, nextSequence: nextSequence)
                }
                for entry in lost { retransmit(entry, places: &places) }
                return false
            }
            if c.flags.contains(.resync) {
                resyncRequestReceived = c.sequence
                events.append(.resyncRequested)
                return false
            }
            if c.flags.contains(.alive) { events.append(.peerAlive); return false }
            return nil
        }
    }
}
