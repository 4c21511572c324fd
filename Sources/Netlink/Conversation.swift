/// Request/reply exchanges on a netlink socket: batches answered per message, and
/// multipart dumps read to NLMSG_DONE.
public struct BatchOutcome: Sendable {
    /// Requests the kernel acknowledged (or that needed no ACK and raised no error).
    public var succeeded: Int = 0
    /// Per failed request: its index in the batch and the kernel's error.
    public var failures: [(index: Int, error: NetlinkKernelError)] = []
    /// Requests whose fate is unknown because the socket failed (a send refused, answers
    /// lost or late): a whole batch each, with the error, and none of its answers counted
    /// above. Some may have been applied; a caller whose requests are idempotent sends
    /// them again.
    public var unanswered: [(indices: Range<Int>, error: NetlinkSocketError)] = []
    /// Filled by `executePipelined` (zero otherwise).
    public var timing = PipelineTiming()

    public init() {}

    /// How many requests `unanswered` covers.
    public var unansweredCount: Int { unanswered.reduce(0) { $0 + $1.indices.count } }
}

extension NetlinkSocket {
    /// Sends every message of `batch` in one sendmsg and collects one answer per message
    /// that asked for an ACK (NLM_F_ACK), matched by sequence number. Messages sent without
    /// NLM_F_ACK are answered only when they fail; `expectAcks` says which kind was sent.
    public func execute(
        _ batch: MessageBatch, expectAcks: Bool, buffer: inout [UInt8], timeoutMilliseconds: Int32 = 5000
    ) throws(NetlinkSocketError) -> BatchOutcome {
        var outcome = BatchOutcome()
        guard !batch.isEmpty else { return outcome }
        let index = SequenceIndex(batch.sequences)
        let sending = PipelineTiming.now()
        try send(batch.bytes)
        let sent = PipelineTiming.now()
        outcome.timing.sendNanoseconds = sent &- sending
        outcome.timing.batches = 1
        outcome.timing.largestBatchBytes = batch.bytes.count
        defer { outcome.timing.acknowledgementNanoseconds = PipelineTiming.now() &- sent }
        if !expectAcks {
            // Errors, if any, are already queued: the kernel handles the batch inside sendmsg.
            setNonBlocking(true)
            defer { setNonBlocking(false) }
            while case .data(let n) = try receive(into: &buffer) {
                collect(buffer, count: n, index: index, into: &outcome)
            }
            outcome.succeeded = batch.count - outcome.failures.count
            return outcome
        }
        var answered = 0
        while answered < batch.count {
            guard waitReadable(timeoutMilliseconds: timeoutMilliseconds) else { throw .timedOut }
            guard case .data(let n) = try receive(into: &buffer) else { continue }
            answered += collect(buffer, count: n, index: index, into: &outcome)
        }
        return outcome
    }

    /// Returns how many of the batch's requests this datagram answered.
    @discardableResult
    private func collect(_ buffer: [UInt8], count: Int, index: SequenceIndex, into outcome: inout BatchOutcome) -> Int {
        var reader = MessageReader(buffer, count: count)
        var answered = 0
        while let m = reader.next() {
            guard m.header.isError, let i = index.position(of: m.header.sequence) else { continue }
            guard let e = try? NetlinkErrorMessage.decode(buffer, m) else { continue }
            answered += 1
            if e.errno == 0 {
                outcome.succeeded += 1
            } else {
                outcome.failures.append((i, NetlinkKernelError(errno: e.errno, sequence: m.header.sequence, message: e.extendedMessage)))
            }
        }
        return answered
    }

    /// Sends one dump request and hands every reply message to `body` until NLMSG_DONE.
    /// A kernel error is thrown as NetlinkKernelError; NLM_F_DUMP_INTR as `.dumpInterrupted`
    /// after the dump has been read to its end.
    public func dump(
        _ request: MessageBatch, buffer: inout [UInt8], timeoutMilliseconds: Int32 = 10000,
        _ body: ([UInt8], NetlinkMessageView) throws -> Void
    ) throws {
        try send(request.bytes)
        let sequence = request.sequences.first ?? 0
        var interrupted = false
        while true {
            guard waitReadable(timeoutMilliseconds: timeoutMilliseconds) else { throw NetlinkSocketError.timedOut }
            guard case .data(let n) = try receive(into: &buffer) else { continue }
            var reader = MessageReader(buffer, count: n)
            while let m = reader.next() {
                guard m.header.sequence == sequence else { continue }
                if m.header.flags.contains(.dumpInterrupted) { interrupted = true }
                if m.header.isDone {
                    if interrupted { throw NetlinkSocketError.dumpInterrupted }
                    return
                }
                if m.header.isError {
                    let e = try NetlinkErrorMessage.decode(buffer, m)
                    if e.errno == 0 { return }
                    throw NetlinkKernelError(errno: e.errno, sequence: sequence, message: e.extendedMessage)
                }
                try body(buffer, m)
                if !m.header.flags.contains(.multipart) { return }
            }
            if let e = reader.error { throw e }
        }
    }

    /// Sends one request and returns its reply messages (for GET of a single object) or
    /// just checks its ACK.
    public func request(
        _ request: MessageBatch, buffer: inout [UInt8], timeoutMilliseconds: Int32 = 5000,
        _ body: ([UInt8], NetlinkMessageView) throws -> Void = { _, _ in }
    ) throws {
        try dump(request, buffer: &buffer, timeoutMilliseconds: timeoutMilliseconds, body)
    }
}

/// Finds a request in a batch by its sequence number. Batches normally use consecutive
/// numbers, which makes this arithmetic; anything else falls back to a dictionary.
struct SequenceIndex {
    let first: UInt32
    let count: Int
    let table: [UInt32: Int]?

    init(_ sequences: [UInt32]) {
        first = sequences.first ?? 0
        count = sequences.count
        var consecutive = true
        for (i, s) in sequences.enumerated() where s != first &+ UInt32(truncatingIfNeeded: i) {
            consecutive = false
            break
        }
        if consecutive {
            table = nil
        } else {
            var t: [UInt32: Int] = [:]
            for (i, s) in sequences.enumerated() { t[s] = i }
            table = t
        }
    }

    func position(of sequence: UInt32) -> Int? {
        if let table { return table[sequence] }
        let offset = Int(sequence &- first)
        return offset < count ? offset : nil
    }
}
