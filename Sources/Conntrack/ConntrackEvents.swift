#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// What a conntrack event subscription delivers. `overrun` means the kernel dropped
/// events for this socket: the listener's view is stale until it resyncs by dump.
public enum ConntrackEvent: Sendable {
    /// `origin` is the netlink port of the process whose request caused the change, or 0
    /// when the kernel itself (packets, timeouts) caused it.
    case flow(FlowPrinter.EventKind, Flow, origin: UInt32)
    case expectation(FlowPrinter.EventKind, Expectation, origin: UInt32)
    case overrun
    /// A message that could not be decoded; counted, never dropped silently.
    case malformed(NetlinkDecodingError)
}

/// Which events to receive.
public struct ConntrackEventMask: OptionSet, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let new = ConntrackEventMask(rawValue: 1)
    public static let update = ConntrackEventMask(rawValue: 2)
    public static let destroy = ConntrackEventMask(rawValue: 4)
    public static let expectNew = ConntrackEventMask(rawValue: 8)
    public static let expectDestroy = ConntrackEventMask(rawValue: 16)
    public static let flows: ConntrackEventMask = [.new, .update, .destroy]
    public static let expectations: ConntrackEventMask = [.expectNew, .expectDestroy]
}

public struct ConntrackEventCounters: Sendable, Equatable {
    public var flows = 0
    public var expectations = 0
    public var overruns = 0
    public var malformed = 0
    /// Messages read from the event ring rather than the socket.
    public var fromRing = 0
}

/// A subscription to the kernel's conntrack multicast groups.
public final class ConntrackEventListener {
    public let socket: NetlinkSocket
    public private(set) var counters = ConntrackEventCounters()
    public let bufferPolicy: ReceiveBufferPolicy
    /// Events are read 64 at a time, each into its own slot of 16 KiB (an event message is
    /// well under 4 KiB; a longer one would be reported as truncated, not cut silently)
    /// plus one cache line: at a stride of whole pages every message would start in the
    /// same cache set, and a batch's 64 messages would evict one another while decoded.
    private static let slot = (16 << 10) + 64
    private var batch = [UInt8](repeating: 0, count: 64 * slot)
    private var lengths = [UInt32](repeating: 0, count: 64)
    public let events: ConntrackEventMask

    static func groups(_ events: ConntrackEventMask) -> [UInt32] {
        let all: [(ConntrackEventMask, UInt32)] = [
            (.new, ConntrackGroup.new), (.update, ConntrackGroup.update), (.destroy, ConntrackGroup.destroy),
            (.expectNew, ConntrackGroup.expectNew), (.expectDestroy, ConntrackGroup.expectDestroy),
        ]
        return all.filter { events.contains($0.0) }.map(\.1)
    }

    /// Leaves the NEW and UPDATE groups (and the expectation groups) while `body` runs:
    /// with no listener for them the kernel skips building those events, so a bulk write
    /// runs near its listener-free rate; what changed meanwhile is not reported, and the
    /// caller resyncs by dump afterwards.
    /// A group it could not join again is kept in `missingGroups`, never forgotten: events
    /// would otherwise stop with no sign. The owner calls `rejoin()`.
    ///
    /// The DESTROY group stays joined. With nf_conntrack_events at its default (2), the
    /// kernel gives a new entry the means to report events at all only while some socket
    /// on the host listens to a conntrack group: entries created with none listening never
    /// report their end. A new master whose peer is down is the only listener on its host,
    /// so leaving every group made its committed flows silent for their whole life, and
    /// their ends never reached the peer. A DESTROY listener costs the write nothing: the
    /// kernel builds the NEW and UPDATE messages only for their own groups' listeners.
    public func withoutEvents<T>(_ body: () throws -> T) throws -> T {
        let groups = Self.groups(events.subtracting(.destroy))
        for g in groups { try socket.leave(group: g) }
        defer {
            for g in groups {
                do { try socket.join(group: g) } catch { missingGroups.insert(g) }
            }
        }
        return try body()
    }

    /// Groups `withoutEvents` left and could not join again.
    public private(set) var missingGroups: Set<UInt32> = []

    /// Joins the groups `withoutEvents` could not; throws the first failure (those still
    /// missing stay listed).
    public func rejoin() throws {
        for g in missingGroups.sorted() {
            try socket.join(group: g)
            missingGroups.remove(g)
        }
    }

    /// `reliable` mirrors conntrackd's NetlinkEventsReliable: the kernel reports delivery
    /// failures back to the sender instead of dropping events quietly. conntrackd also
    /// hides ENOBUFS then, yet the kernel re-delivers only DESTROY events: NEW and UPDATE
    /// events that did not fit are gone. `reportOverruns` keeps ENOBUFS visible so the
    /// owner can resync by dump (Tandem); false reproduces conntrackd's silent loss.
    public init(
        events: ConntrackEventMask = .flows, namespace: String? = nil,
        bufferPolicy: ReceiveBufferPolicy = ReceiveBufferPolicy(initial: 2 << 20, maximum: 64 << 20),
        reliable: Bool = false, reportOverruns: Bool = true
    ) throws {
        let open = { try NetlinkSocket(protocol: NetlinkProtocol.netfilter) }
        socket = try namespace.map { try NetworkNamespace.run(named: $0, open) } ?? open()
        self.bufferPolicy = bufferPolicy
        try socket.setReceiveBuffer(bytes: bufferPolicy.initial)
        self.events = events
        for group in Self.groups(events) { try socket.join(group: group) }
        if reliable {
            try socket.setBroadcastErrors(true)
            if reportOverruns { try socket.setReportsOverruns(true) }
        }
    }

    /// Where events come in when the socket's filter diverts them (`divert(into:)`).
    public private(set) var ring: EventRing?

    /// Has `ring`'s program take this socket's messages into the ring; the socket keeps
    /// what the ring cannot hold. Replaces any filter attached before.
    public func divert(into ring: EventRing) throws(NetlinkSocketError) {
        try ring.attach(to: socket)
        self.ring = ring
    }

    /// What to poll for events: the socket, and the ring when there is one.
    public var descriptors: [Int32] { ring.map { [socket.descriptor, $0.descriptor] } ?? [socket.descriptor] }

    /// Waits until the socket or the ring has something or `timeoutMilliseconds` pass.
    public func waitReadable(timeoutMilliseconds: Int32) -> Bool {
        guard let ring else { return socket.waitReadable(timeoutMilliseconds: timeoutMilliseconds) }
        if ring.pending { return true }
        return NetlinkSocket.waitReadable([socket.descriptor, ring.descriptor], timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Waits up to `timeoutMilliseconds` for events, then returns everything that is
    /// readable now. An overrun grows the receive buffer per the policy and is reported.
    public func poll(timeoutMilliseconds: Int32) throws -> [ConntrackEvent] {
        var events: [ConntrackEvent] = []
        try poll(timeoutMilliseconds: timeoutMilliseconds) { events.append($0) }
        return events
    }

    /// The same, handing each event to `handle` as it is decoded, and stopping after
    /// `maximumReads` datagrams (the rest stays readable): a burst of 100k events is
    /// never held decoded at once, and the owner's loop gets a turn in between.
    /// Returns whether it stopped at `maximumReads`, with more probably waiting.
    @discardableResult
    ///
    /// `fastFlow`, if given, sees each flow NEW/UPDATE event's raw payload first; when it
    /// answers true the event is taken and not decoded here.
    ///
    /// `batchRead`, if given, is called after each batch of datagrams has been handed out.
    ///
    /// `socketReady`: false when the owner's poll found the socket empty; with a ring the
    /// socket is then not read (it holds nothing unless the ring spilled).
    public func poll(timeoutMilliseconds: Int32, maximumReads: Int = .max, socketReady: Bool = true,
                     fastFlow: ((FlowPrinter.EventKind, UnsafeRawBufferPointer, UInt32) -> Bool)? = nil,
                     batchRead: (() -> Void)? = nil,
                     _ handle: (ConntrackEvent) throws -> Void) throws -> Bool {
        // Reads never block (MSG_DONTWAIT): with no time to wait, an empty socket simply
        // reads nothing, and a busy loop saves a poll and two flag changes per turn.
        if timeoutMilliseconds != 0 {
            guard waitReadable(timeoutMilliseconds: timeoutMilliseconds) else { return false }
        }
        var reads = 0
        guard let ring else {
            return try readSocket(&reads, maximumReads, fastFlow, batchRead, handle)
        }
        if ring.spilling {
            // What the ring holds came before what the socket holds, and the program sends
            // everything to the socket until the spill ends: the ring, then the socket, both
            // empty, then the end of the spill, then what reached the socket meanwhile.
            if try readRing(ring, &reads, maximumReads, fastFlow, batchRead, handle) { return true }
            if try readSocket(&reads, maximumReads, fastFlow, batchRead, handle) { return true }
            ring.endSpill()
            if try readSocket(&reads, maximumReads, fastFlow, batchRead, handle) { return true }
        }
        if try readRing(ring, &reads, maximumReads, fastFlow, batchRead, handle) { return true }
        // A message too long for the ring's records (no conntrack event is), or a spill
        // that began since the ring was read.
        guard socketReady || ring.spilling else { return false }
        return try readSocket(&reads, maximumReads, fastFlow, batchRead, handle)
    }

    /// Reads the ring until it is empty (false) or `maximum` is reached (true).
    private func readRing(_ ring: EventRing, _ reads: inout Int, _ maximum: Int,
                          _ fastFlow: ((FlowPrinter.EventKind, UnsafeRawBufferPointer, UInt32) -> Bool)?,
                          _ batchRead: (() -> Void)?, _ handle: (ConntrackEvent) throws -> Void) throws -> Bool {
        while reads < maximum {
            let n = ring.drain(into: &batch, slot: Self.slot, lengths: &lengths)
            guard n > 0 else { return false }
            counters.fromRing += n
            try handOut(n, &reads, fastFlow, batchRead, handle)
        }
        return ring.pending
    }

    /// Decodes the `n` messages a read left in `batch`, in order, and counts them as read.
    private func handOut(_ n: Int, _ reads: inout Int,
                         _ fastFlow: ((FlowPrinter.EventKind, UnsafeRawBufferPointer, UInt32) -> Bool)?,
                         _ batchRead: (() -> Void)?, _ handle: (ConntrackEvent) throws -> Void) throws {
        reads += n
        for i in 0 ..< n {
            try decode(MessageReader(batch, from: i * Self.slot, count: Int(lengths[i])), fastFlow: fastFlow, handle)
        }
        batchRead?()
    }

    /// Reads the socket until it is empty (false) or `maximum` is reached (true).
    private func readSocket(_ reads: inout Int, _ maximum: Int,
                            _ fastFlow: ((FlowPrinter.EventKind, UnsafeRawBufferPointer, UInt32) -> Bool)?,
                            _ batchRead: (() -> Void)?, _ handle: (ConntrackEvent) throws -> Void) throws -> Bool {
        while reads < maximum {
            let n: Int
            do {
                n = try socket.receiveBatch(into: &batch, slot: Self.slot, lengths: &lengths)
            } catch NetlinkSocketError.overrun {
                counters.overruns += 1
                try handle(.overrun)
                if let bigger = bufferPolicy.grown(from: socket.receiveBufferSize / 2) {
                    _ = try? socket.setReceiveBuffer(bytes: bigger)
                }
                continue
            }
            guard n > 0 else { return false }
            try handOut(n, &reads, fastFlow, batchRead, handle)
        }
        return true
    }

    private func decode(_ reader: MessageReader, fastFlow: ((FlowPrinter.EventKind, UnsafeRawBufferPointer, UInt32) -> Bool)? = nil,
                        _ handle: (ConntrackEvent) throws -> Void) rethrows {
        var reader = reader
        let buffer = reader.bytes
        // Unwrapped once: `if let` on the optional closure inside the loop retained and
        // released its context for every message.
        let hasFastFlow = fastFlow != nil
        let fast = fastFlow ?? { _, _, _ in false }
        while let m = reader.next() {
            let subsystem = m.header.type >> 8
            let isNew = m.header.flags.contains([.create, .excl])
            let op = m.header.type & 0xff
            if hasFastFlow, subsystem == ConntrackMessageType.subsystemConntrack, op != 2 {
                let taken = buffer.withUnsafeBytes { all in
                    fast(isNew ? .new : .update, UnsafeRawBufferPointer(rebasing: all[m.payload]), m.header.portID)
                }
                if taken {
                    counters.flows += 1
                    continue
                }
            }
            let event: ConntrackEvent
            do throws(NetlinkDecodingError) {
                if subsystem == ConntrackMessageType.subsystemConntrack {
                    let kind: FlowPrinter.EventKind = op == 2 ? .destroy : (isNew ? .new : .update)
                    event = .flow(kind, try FlowCodec.decode(buffer, payload: m.payload), origin: m.header.portID)
                    counters.flows += 1
                } else if subsystem == ConntrackMessageType.subsystemExpect {
                    let kind: FlowPrinter.EventKind = op == 2 ? .destroy : .new
                    event = .expectation(kind, try ExpectationCodec.decode(buffer, payload: m.payload), origin: m.header.portID)
                    counters.expectations += 1
                } else {
                    continue
                }
            } catch {
                counters.malformed += 1
                event = .malformed(error)
            }
            try handle(event)
        }
        if let e = reader.error {
            counters.malformed += 1
            try handle(.malformed(e))
        }
    }
}
