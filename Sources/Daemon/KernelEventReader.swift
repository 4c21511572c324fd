#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Timekeeping

/// What the sync daemon takes from one read of the kernel's conntrack events, in the
/// kernel's order. Flows the daemon does not replicate (its own commits coming back,
/// filtered ones) are already left out and counted.
enum KernelEvent {
    /// The common flow (IPv4, nothing the compact form lacks), never decoded into a `Flow`.
    case compact(FlowPrinter.EventKind, FlowKey, CompactFlow.Packed)
    indirect case flow(FlowPrinter.EventKind, Flow)
    indirect case expectation(FlowPrinter.EventKind, Expectation, origin: UInt32)
    /// The kernel dropped events: the socket overran.
    case overrun
    indirect case malformed(String)
}

/// Reads the kernel's conntrack events for the sync daemon: a bounded number of datagrams
/// per loop turn, so the peer and the control socket get their turns during a burst, and
/// after a turn that read events a short rest, as a NIC moderates its interrupts.
final class KernelEventReader {
    private(set) var listener: ConntrackEventListener
    /// Opens a listener as the first was opened (groups, buffer, kernel-side filter).
    let open: () throws -> ConntrackEventListener
    /// Our own commits come back as events: never echo them to the peer (spec §5.4).
    let ownPort: UInt32
    let filter: FlowFilter
    /// Whether common flows may take the compact path (not when the internal cache is bypassed).
    let compact: Bool
    /// Flow events read, and those the filter dropped (conntrackd's "events received / filtered").
    private(set) var received = 0
    private(set) var filtered = 0
    /// Events of our own writes, skipped (a loud commit's echo; a quiet one has none).
    private(set) var ownEchoes = 0
    /// Whether the last poll found the socket readable (with a ring, the socket is read
    /// only then: it holds nothing unless the ring spilled).
    private var socketReadable = true
    /// While resting, the event socket is left alone until then.
    private(set) var restingUntil: Instant?
    /// The last turn's events, for the owner to take (`read` appends, the owner empties).
    var events: [KernelEvent] = []

    /// The rest after a turn that read events: during a burst each turn then takes a batch
    /// of events instead of the one or two that arrived since the last, which cost a sleep
    /// and a wake-up each. An event after a quiet spell is read at once; the event ring
    /// (or the socket's buffer) holds far more than a burst brings in this time.
    /// 2 ms: each turn has a price of its own (the poll, the clock, a send call), about
    /// 0.15 µs a flow more at 0.5 ms in a burst of 250,000 (`bench/scale.sh`, A/B with
    /// TANDEM_TEST_EVENT_MODERATION_US); an event waits at most this long during a burst.
    static let moderation = Duration.milliseconds(2)
    /// `moderation`, or TANDEM_TEST_EVENT_MODERATION_US (benchmarks' A/B only).
    let rest: Duration = getenv("TANDEM_TEST_EVENT_MODERATION_US").flatMap { Int(String(cString: $0)) }
        .map { Duration.microseconds($0) } ?? KernelEventReader.moderation

    /// conntrackd.conf's EventIterationLimit: how many events a turn takes before the
    /// loop serves the peer and the control socket (the kernel sends one event per
    /// datagram; reads come in recvmmsg batches of 64, so a turn may take up to 63 more).
    let readsPerTurn: Int

    init(open: @escaping () throws -> ConntrackEventListener, ownPort: UInt32, filter: FlowFilter, compact: Bool,
         readsPerTurn: Int = 100) throws {
        self.open = open
        self.readsPerTurn = max(1, readsPerTurn)
        listener = try open()
        self.ownPort = ownPort
        self.filter = filter
        self.compact = compact
    }

    var descriptor: Int32 { listener.socket.descriptor }

    /// The socket, and the event ring when the listener reads one.
    var descriptors: [Int32] { listener.descriptors }

    /// How many times the event ring was full and events went through the socket, the
    /// rings of listeners replaced after a failure included.
    var ringSpills: UInt64 { spillsOfEarlierRings + (listener.ring?.spills ?? 0) }
    private var spillsOfEarlierRings: UInt64 = 0

    /// The event ring's size; 0 when events come from the socket.
    var ringBytes: Int { listener.ring?.bytes ?? 0 }

    /// Leaves the socket alone until `until` (after a failure that a retry cannot mend at once).
    func rest(until: Instant) { restingUntil = until }

    /// Replaces a socket that failed with a fresh one; what the old one lost is the
    /// owner's to re-read by dump.
    func reopen() throws {
        spillsOfEarlierRings += listener.ring?.spills ?? 0
        listener = try open()
        restingUntil = nil
    }

    func isResting(now: Instant) -> Bool { restingUntil.map { now < $0 } ?? false }

    /// Whether this turn should read: not while resting, and (when the owner polled) only
    /// if the socket is readable. A rest that is over ends here even if nothing came in
    /// meanwhile: a stale deadline would keep the loop from ever sleeping.
    func shouldRead(now: Instant, ready: Set<Int32>?) -> Bool {
        if let until = restingUntil, now >= until { restingUntil = nil }
        socketReadable = ready?.contains(descriptor) ?? true
        return restingUntil == nil && (ready.map { r in descriptors.contains(where: r.contains) } ?? true)
    }

    /// Appends this turn's events to `events`; returns whether more are waiting.
    func read(now: Instant) throws -> Bool {
        let before = listener.counters
        // The closures work on locals, written back once per read: a change to one of
        // this object's properties through the escaping closure's `unowned(unsafe) self`
        // retained and released it for every event, and `passes` through `self` copied
        // the filter.
        var events: [KernelEvent] = []
        swap(&events, &self.events)
        var received = 0, filtered = 0, ownEchoes = 0
        let ownPort = self.ownPort, filter = self.filter
        defer {
            swap(&events, &self.events)
            self.received += received
            self.filtered += filtered
            self.ownEchoes += ownEchoes
        }
        let backlogged = try listener.poll(timeoutMilliseconds: 0, maximumReads: readsPerTurn, socketReady: socketReadable,
                                           fastFlow: compact ? { kind, payload, origin in
            guard let p = CompactFlow.Packed(eventPayload: payload) else { return false }
            if origin != 0 && origin == ownPort { ownEchoes += 1; return true }
            received += 1
            guard filter.passes(p) else { filtered += 1; return true }
            events.append(.compact(kind, FlowKey(packed: p.original), p))
            return true
        } : nil) { event in
            switch event {
            case .flow(let kind, let flow, let origin):
                if origin != 0 && origin == ownPort { ownEchoes += 1; return }
                received += 1
                guard filter.passes(flow) else { filtered += 1; return }
                events.append(.flow(kind, flow))
            case .overrun:
                events.append(.overrun)
            case .malformed(let e):
                events.append(.malformed("\(e)"))
            case .expectation(let kind, let x, let origin):
                events.append(.expectation(kind, x, origin: origin))
            }
        }
        // A turn that read events and emptied the socket rests (see `moderation`).
        restingUntil = !backlogged && listener.counters != before ? now + rest : nil
        return backlogged
    }
}
