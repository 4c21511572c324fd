#if canImport(Glibc)
import Glibc
#endif
import Netlink
import IPAddressing

/// The outcome of a batched create / update / delete.
public struct BatchResult: Sendable {
    public init(succeeded: Int = 0, failures: [(index: Int, error: NetlinkKernelError)] = []) {
        self.succeeded = succeeded
        self.failures = failures
    }

    public var succeeded = 0
    /// Index into the input and the kernel's error, for each rejected flow.
    public var failures: [(index: Int, error: NetlinkKernelError)] = []
    public var failed: Int { failures.count }
    /// Batches the socket failed on (see `BatchOutcome.unanswered`): input indices and error.
    public var unanswered: [(indices: Range<Int>, error: NetlinkSocketError)] = []
    public var unansweredCount: Int { unanswered.reduce(0) { $0 + $1.indices.count } }
    /// Where a pipelined write spent its time (see `PipelineTiming`).
    public var timing = PipelineTiming()
}

/// Requests to the kernel's conntrack table over one ctnetlink socket: dumps, single gets,
/// and batched create / update / delete — many messages per sendmsg, each answered by
/// sequence number so every failure is reported for exactly its flow.
public final class ConntrackConnection {
    public let socket: NetlinkSocket
    private var buffer: [UInt8]
    public var batchSize: Int

    /// Opens the socket in the caller's namespace, or inside `namespace` (/run/netns/NAME).
    public init(namespace: String? = nil, batchSize: Int = 1000) throws {
        if let namespace {
            socket = try NetworkNamespace.run(named: namespace) { try NetlinkSocket(protocol: NetlinkProtocol.netfilter) }
        } else {
            socket = try NetlinkSocket(protocol: NetlinkProtocol.netfilter)
        }
        self.batchSize = batchSize
        buffer = [UInt8](repeating: 0, count: 1 << 16)
        try socket.enableCappedAcks()
        socket.enableExtendedAcksIfAvailable()
        // Batches are limited by the send buffer, acks by the receive buffer.
        try socket.setSendBuffer(bytes: 8 << 20)
        try socket.setReceiveBuffer(bytes: 8 << 20)
    }

    // MARK: flows

    /// Which list of the kernel a dump reads.
    public enum Table: Sendable {
        case confirmed, dying, unconfirmed
    }

    /// Streams the table (or one family of it) to `body`. `mark` filters in the kernel;
    /// `zone` here, as conntrack(8) does.
    public func dump(
        family: UInt8 = AddressFamily.unspecified, mark: (value: UInt32, mask: UInt32)? = nil, zone: UInt16? = nil,
        zeroCounters: Bool = false, table: Table = .confirmed, _ body: (Flow) throws -> Void
    ) throws {
        let type: UInt16 = switch table {
        case .confirmed: zeroCounters ? ConntrackMessageType.getCtrZero : ConntrackMessageType.get
        case .dying: ConntrackMessageType.getDying
        case .unconfirmed: ConntrackMessageType.getUnconfirmed
        }
        try socket.dumpPipelined(tableRequest(type, family: family, mark: mark)) { bytes, m in
            let flow = try FlowCodec.decode(bytes, payload: m.payload)
            if let zone, (flow.zone ?? 0) != zone { return }
            try body(flow)
        }
    }

    /// The confirmed table for the sync daemon's caches: a flow the cache's packed form
    /// holds is read straight into it (`CompactFlow.Packed(eventPayload:)`, as the sender
    /// reads events), anything else comes whole as `.general`. A re-read of a million
    /// flows built, compared and packed again a whole `Flow` for each.
    public func dumpCompact(_ body: (CompactFlow) throws -> Void) throws {
        try socket.dumpPipelined(tableRequest(ConntrackMessageType.get, family: AddressFamily.unspecified, mark: nil)) { bytes, m in
            let packed = bytes.withUnsafeBytes { raw in
                CompactFlow.Packed(eventPayload: UnsafeRawBufferPointer(rebasing: raw[m.payload]))
            }
            if let packed { return try body(.packed(packed)) }
            try body(.general(try FlowCodec.decode(bytes, payload: m.payload)))
        }
    }

    /// A dump request for one of the kernel's lists, `mark` filtering in the kernel.
    private func tableRequest(_ type: UInt16, family: UInt8, mark: (value: UInt32, mask: UInt32)?) -> MessageBatch {
        var batch = MessageBatch()
        batch.append(type: type, flags: [.request, .dump], sequence: socket.makeSequence()) { e in
            NetfilterHeader(family: family).encode(into: &e)
            if let mark {
                e.uint32BE(CTA.mark, mark.value)
                e.uint32BE(CTA.markMask, mark.mask)
            }
        }
        return batch
    }

    /// The kernel's per-CPU counters (IPCTNL_MSG_CT_GET_STATS_CPU): for each CPU, its
    /// number and the (attribute, value) pairs in the order the kernel sent them.
    public func cpuStatistics() throws -> [(cpu: UInt16, counters: [(type: UInt16, value: UInt32)])] {
        var batch = MessageBatch()
        batch.append(type: ConntrackMessageType.getStatsCPU, flags: [.request, .dump], sequence: socket.makeSequence()) { e in
            NetfilterHeader(family: AddressFamily.unspecified).encode(into: &e)
        }
        var result: [(cpu: UInt16, counters: [(type: UInt16, value: UInt32)])] = []
        try socket.dump(batch, buffer: &buffer) { bytes, m in
            let nf = try NetfilterHeader.decode(bytes, m.payload)
            var counters: [(type: UInt16, value: UInt32)] = []
            try AttributeDecoder.withDecoder(bytes, range: (m.payload.lowerBound + NetfilterHeader.size)..<m.payload.upperBound) { (d) throws(NetlinkDecodingError) in
                while let a = d.next() { counters.append((a.type, d.uint32BE(a))) }
                if let e = d.error { throw e }
            }
            result.append((nf.resourceID, counters))
        }
        return result
    }

    public func flows(family: UInt8 = AddressFamily.unspecified) throws -> [Flow] {
        var all: [Flow] = []
        try dump(family: family) { all.append($0) }
        return all
    }

    /// The kernel's current entry for a flow's tuple, or nil when there is none.
    public func get(_ flow: Flow) throws -> Flow? {
        var batch = MessageBatch()
        batch.append(type: ConntrackMessageType.get, flags: [.request, .ack], sequence: socket.makeSequence()) { e in
            FlowCodec.encode(flow, into: &e)
        }
        var found: Flow?
        do {
            try socket.request(batch, buffer: &buffer) { bytes, m in
                found = try FlowCodec.decode(bytes, payload: m.payload)
            }
        } catch let e as NetlinkKernelError where e.errno == ENOENT {
            return nil
        }
        return found
    }

    /// Creates flows; IPS_CONFIRMED is added to a given status as the kernel requires. With `updateExisting`,
    /// NLM_F_EXCL is left out so an existing entry is updated instead of failing (what a
    /// commit of replicated state needs). A socket error is thrown once every batch has
    /// been tried, unless `reportingUnanswered`: then the batches it failed are in the
    /// result's `unanswered` beside what the kernel answered of the rest.
    public func create<C: Collection>(_ flows: C, updateExisting: Bool = false, acknowledge: Bool = true,
                                      reportingUnanswered: Bool = false) throws -> BatchResult where C.Element == Flow {
        var flags: NetlinkFlags = [.request, .create]
        if !updateExisting { flags.insert(.excl) }
        if acknowledge { flags.insert(.ack) }
        return try apply(flows, type: ConntrackMessageType.new, flags: flags, acknowledge: acknowledge,
                         reportingUnanswered: reportingUnanswered, transform: Self.forCreate)
    }

    /// `flow` as a create must carry it: the kernel refuses a status without
    /// IPS_CONFIRMED (EBUSY); no status at all is fine. Callers of `create(encoding:)`
    /// that encode a `Flow` use this too.
    public static func forCreate(_ flow: Flow) -> Flow {
        var f = flow
        if let s = f.status { f.status = s.union(.confirmed) }
        return f
    }

    /// `create` for a caller that writes each request itself (nfgenmsg and attributes,
    /// with IPS_CONFIRMED already in any status): a commit encodes its packed flows
    /// straight from their bits this way instead of unpacking each into a `Flow`.
    /// `threaded`: see `NetlinkSocket.executePipelined`.
    public func create<C: Collection>(encoding items: C, updateExisting: Bool, acknowledge: Bool, reportingUnanswered: Bool = false,
                                      threaded: Bool = true, _ encode: (C.Element, inout AttributeEncoder) -> Void) throws -> BatchResult {
        var flags: NetlinkFlags = [.request, .create]
        if !updateExisting { flags.insert(.excl) }
        if acknowledge { flags.insert(.ack) }
        return try pipelined(items, type: ConntrackMessageType.new, flags: flags, acknowledge: acknowledge,
                             reportingUnanswered: reportingUnanswered, threaded: threaded, encode: encode)
    }

    /// Updates existing flows (CT_NEW without NLM_F_CREATE).
    public func update<C: Collection>(_ flows: C, acknowledge: Bool = true) throws -> BatchResult where C.Element == Flow {
        try apply(flows, type: ConntrackMessageType.new, flags: acknowledge ? [.request, .ack] : [.request], acknowledge: acknowledge) { $0 }
    }

    /// `threaded`: see `NetlinkSocket.executePipelined`.
    public func delete<C: Collection>(_ flows: C, acknowledge: Bool = true, threaded: Bool = true) throws -> BatchResult where C.Element == Flow {
        try apply(flows, type: ConntrackMessageType.delete, flags: acknowledge ? [.request, .ack] : [.request], acknowledge: acknowledge,
                  threaded: threaded) { $0 }
    }

    /// Empties the table (or one family's part of it).
    public func flush(family: UInt8 = AddressFamily.unspecified) throws {
        var batch = MessageBatch()
        batch.append(type: ConntrackMessageType.delete, flags: [.request, .ack], sequence: socket.makeSequence()) { e in
            NetfilterHeader(family: family).encode(into: &e)
        }
        try socket.request(batch, buffer: &buffer)
    }

    /// Number of entries, from the global stats message (what `conntrack -C` prints).
    public func count() throws -> UInt32 {
        var batch = MessageBatch()
        batch.append(type: ConntrackMessageType.getStats, flags: [.request, .ack], sequence: socket.makeSequence()) { e in
            NetfilterHeader(family: AddressFamily.unspecified).encode(into: &e)
        }
        var entries: UInt32 = 0
        try socket.request(batch, buffer: &buffer) { bytes, m in
            guard m.payload.count >= NetfilterHeader.size else { throw NetlinkDecodingError.truncatedPayload(type: m.header.type, needed: 4, available: m.payload.count) }
            try AttributeDecoder.withDecoder(bytes, range: (m.payload.lowerBound + NetfilterHeader.size)..<m.payload.upperBound) { (d) throws(NetlinkDecodingError) in
                while let a = d.next() {
                    if a.type == 1 { entries = d.uint32BE(a) } // CTA_STATS_GLOBAL_ENTRIES
                }
                if let e = d.error { throw e }
            }
        }
        return entries
    }

    private func apply<C: Collection>(
        _ flows: C, type: UInt16, flags: NetlinkFlags, acknowledge: Bool, reportingUnanswered: Bool = false, threaded: Bool = true,
        transform: (Flow) -> Flow
    ) throws -> BatchResult where C.Element == Flow {
        try pipelined(flows, type: type, flags: flags, acknowledge: acknowledge, reportingUnanswered: reportingUnanswered,
                      threaded: threaded) { flow, e in
            FlowCodec.encode(transform(flow), into: &e)
        }
    }

    private func pipelined<C: Collection>(
        _ items: C, type: UInt16, flags: NetlinkFlags, acknowledge: Bool, reportingUnanswered: Bool = false, threaded: Bool = true,
        encode: (C.Element, inout AttributeEncoder) -> Void
    ) throws -> BatchResult {
        var iterator = items.makeIterator()
        var sequence = socket.reserveSequences(items.count)
        var index = 0
        let size = batchSize
        // Encoding happens here while the helper thread has the kernel apply the
        // previous batch.
        let outcome = try socket.executePipelined(expectAcks: acknowledge, threaded: threaded) { batch in
            let first = index
            while batch.count < size, let item = iterator.next() {
                batch.append(type: type, flags: flags, sequence: sequence) { encode(item, &$0) }
                sequence &+= 1
                index += 1
            }
            return batch.isEmpty ? nil : first
        }
        if !reportingUnanswered, let first = outcome.unanswered.first { throw first.error }
        var result = BatchResult(succeeded: outcome.succeeded, failures: outcome.failures)
        result.unanswered = outcome.unanswered
        result.timing = outcome.timing
        return result
    }

    // MARK: expectations

    public func dumpExpectations(family: UInt8 = AddressFamily.unspecified, _ body: (Expectation) throws -> Void) throws {
        var batch = MessageBatch()
        batch.append(type: ConntrackMessageType.expectGet, flags: [.request, .dump], sequence: socket.makeSequence()) { e in
            NetfilterHeader(family: family).encode(into: &e)
        }
        try socket.dump(batch, buffer: &buffer) { bytes, m in
            try body(ExpectationCodec.decode(bytes, payload: m.payload))
        }
    }

    /// The expectation whose expected tuple is `x.tuple` (conntrack's `-G expect`); nil
    /// when the kernel has none.
    public func getExpectation(_ x: Expectation) throws -> Expectation? {
        var batch = MessageBatch()
        batch.append(type: ConntrackMessageType.expectGet, flags: [.request, .ack], sequence: socket.makeSequence()) {
            ExpectationCodec.encode(x, into: &$0)
        }
        var found: Expectation?
        do {
            try socket.request(batch, buffer: &buffer) { bytes, m in
                found = try ExpectationCodec.decode(bytes, payload: m.payload)
            }
        } catch let e as NetlinkKernelError where e.errno == ENOENT {
            return nil
        }
        return found
    }

    public func createExpectation(_ x: Expectation) throws {
        try single(type: ConntrackMessageType.expectNew, flags: [.request, .create, .excl, .ack]) { ExpectationCodec.encode(x, into: &$0) }
    }

    /// Creates expectations in batches, each failure reported by index (EEXIST for one
    /// that exists already).
    public func createExpectations<C: Collection>(_ xs: C) throws -> BatchResult where C.Element == Expectation {
        try pipelined(xs, type: ConntrackMessageType.expectNew, flags: [.request, .create, .excl, .ack], acknowledge: true) { x, e in
            ExpectationCodec.encode(x, into: &e)
        }
    }

    public func deleteExpectation(_ x: Expectation) throws {
        try single(type: ConntrackMessageType.expectDelete, flags: [.request, .ack]) { ExpectationCodec.encode(x, into: &$0) }
    }

    public func flushExpectations(family: UInt8 = AddressFamily.unspecified) throws {
        try single(type: ConntrackMessageType.expectDelete, flags: [.request, .ack]) { NetfilterHeader(family: family).encode(into: &$0) }
    }

    private func single(type: UInt16, flags: NetlinkFlags, _ body: (inout AttributeEncoder) -> Void) throws {
        var batch = MessageBatch()
        batch.append(type: type, flags: flags, sequence: socket.makeSequence(), body: body)
        try socket.request(batch, buffer: &buffer)
    }
}
