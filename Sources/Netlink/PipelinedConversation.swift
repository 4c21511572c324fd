/// Dumps and batches with the kernel's work and ours on two threads. The kernel builds a
/// dump's next datagram inside recvmsg and applies a batch inside sendmsg; with a reader
/// or sender thread doing only that, the caller decodes or encodes at the same time.
extension NetlinkSocket {
    private enum Chunk {
        case data([UInt8], Int)
        case failed(Error)
        case end
    }

    /// Like `dump`, with receiving on a helper thread. The dump is always read to its
    /// end, even when `body` throws, so the socket stays usable.
    public func dumpPipelined(
        _ request: MessageBatch, depth: Int = 4, bufferSize: Int = 1 << 16, timeoutMilliseconds: Int32 = 10000,
        _ body: ([UInt8], NetlinkMessageView) throws -> Void
    ) throws {
        try send(request.bytes)
        let sequence = request.sequences.first ?? 0
        let free = HandoffQueue<[UInt8]>(capacity: depth)
        let filled = HandoffQueue<Chunk>(capacity: depth)
        for _ in 0..<depth { free.push([UInt8](repeating: 0, count: bufferSize)) }
        let reader = try WorkerThread { [self] in
            while true {
                var buffer = free.pop()
                guard self.waitReadable(timeoutMilliseconds: timeoutMilliseconds) else {
                    filled.push(.failed(NetlinkSocketError.timedOut)); return
                }
                do {
                    guard case .data(let n) = try self.receive(into: &buffer) else { free.push(buffer); continue }
                    let last = Self.endsDump(buffer, count: n, sequence: sequence)
                    filled.push(.data(buffer, n))
                    if last { filled.push(.end); return }
                } catch {
                    filled.push(.failed(error)); return
                }
            }
        }
        defer { reader.join() }
        var failure: Error?
        var interrupted = false
        var finished = false
        while !finished {
            switch filled.pop() {
            case .end:
                finished = true
            case .failed(let e):
                if failure == nil { failure = e }
                finished = true
            case .data(let buffer, let n):
                if failure == nil {
                    do {
                        var reader = MessageReader(buffer, count: n)
                        while let m = reader.next() {
                            guard m.header.sequence == sequence else { continue }
                            if m.header.flags.contains(.dumpInterrupted) { interrupted = true }
                            if m.header.isDone { break }
                            if m.header.isError {
                                let e = try NetlinkErrorMessage.decode(buffer, m)
                                if e.errno != 0 { throw NetlinkKernelError(errno: e.errno, sequence: sequence, message: e.extendedMessage) }
                                break
                            }
                            try body(buffer, m)
                        }
                        if let e = reader.error { throw e }
                    } catch {
                        failure = error
                    }
                }
                free.push(buffer)
            }
        }
        if let failure { throw failure }
        if interrupted { throw NetlinkSocketError.dumpInterrupted }
    }

    /// Whether this datagram carries the dump's NLMSG_DONE or an error ending it.
    static func endsDump(_ buffer: [UInt8], count: Int, sequence: UInt32) -> Bool {
        var reader = MessageReader(buffer, count: count)
        while let m = reader.next() {
            if m.header.sequence == sequence && (m.header.isDone || m.header.isError) { return true }
            if m.header.sequence == sequence && !m.header.flags.contains(.multipart) { return true }
        }
        return reader.error != nil
    }

    /// Sends batches produced by `produce` (called on the caller's thread until it returns
    /// nil) from a helper thread, so the next batch is encoded while the kernel applies the
    /// previous one. `produce` fills the empty batch it is lent and returns the input index
    /// of its first message; sent batches come back to be lent again with their storage,
    /// so a long write allocates a few buffers, not one (grown step by step) per batch.
    /// A socket error fails only its own batch, which is reported whole in `unanswered`;
    /// the batches after it are still sent (a late answer to the failed batch is told
    /// apart by its sequence number).
    ///
    /// `threaded` false sends on the caller's thread between batches instead. Threaded, the
    /// write also goes on on one thread once the overlap stops paying (`OverlapGain`): each
    /// hand-off costs a wake-up, which on a loaded 2-core machine waits for a CPU
    /// (measured: the sender idle 1.3 s of a 2 s commit of 250k flows while the producer
    /// waited for it, both runnable).
    public func executePipelined(
        expectAcks: Bool, depth: Int = 2, timeoutMilliseconds: Int32 = 5000, threaded: Bool = true,
        produce: (inout MessageBatch) -> Int?
    ) throws -> BatchOutcome {
        var outcome = BatchOutcome()
        guard threaded else {
            var batch = MessageBatch()
            executeInline(expectAcks: expectAcks, timeoutMilliseconds: timeoutMilliseconds, batch: &batch, into: &outcome, produce: produce)
            return outcome
        }
        let work = HandoffQueue<(MessageBatch, Int)?>(capacity: depth)
        // Every batch in flight at once fits: the sender never waits to give one back.
        // Each comes back with the sender's time on it, for `OverlapGain`.
        let spare = HandoffQueue<(MessageBatch, UInt64)>(capacity: depth + 2)
        final class Box: @unchecked Sendable {
            var outcome = BatchOutcome()
        }
        let box = Box()
        let sender = try WorkerThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            var waiting = PipelineTiming.now()
            while case (var batch, let first)? = work.pop() {
                box.outcome.timing.senderIdleNanoseconds &+= PipelineTiming.now() &- waiting
                var spent: UInt64 = 0
                do throws(NetlinkSocketError) {
                    let o = try self.execute(batch, expectAcks: expectAcks, buffer: &buffer, timeoutMilliseconds: timeoutMilliseconds)
                    box.outcome.succeeded += o.succeeded
                    for f in o.failures { box.outcome.failures.append((first + f.index, f.error)) }
                    spent = o.timing.sendNanoseconds &+ o.timing.acknowledgementNanoseconds
                    box.outcome.timing.sendNanoseconds &+= o.timing.sendNanoseconds
                    box.outcome.timing.acknowledgementNanoseconds &+= o.timing.acknowledgementNanoseconds
                    box.outcome.timing.largestBatchBytes = max(box.outcome.timing.largestBatchBytes, o.timing.largestBatchBytes)
                } catch {
                    box.outcome.unanswered.append((first..<first + batch.count, error))
                }
                box.outcome.timing.batches += 1
                batch.removeAll(keepingCapacity: true)
                spare.push((batch, spent))
                waiting = PipelineTiming.now()
            }
        }
        var build: UInt64 = 0, blocked: UInt64 = 0
        var mark = PipelineTiming.now()
        var gain = OverlapGain(now: mark)
        var oneThreadPays = false
        var exhausted = false
        while true {
            var batch = MessageBatch()
            if let (b, spent) = spare.tryPop() {
                batch = b
                gain.returned(sendNanoseconds: spent)
                if gain.verdict(now: mark) == false {
                    // Kept for the rest of the write on this thread.
                    work.push(nil)
                    spare.push((batch, 0))
                    oneThreadPays = true
                    break
                }
            }
            guard let first = produce(&batch) else { exhausted = true; break }
            let built = PipelineTiming.now()
            build &+= built &- mark
            gain.built(built &- mark)
            work.push((batch, first))
            mark = PipelineTiming.now()
            blocked &+= mark &- built
        }
        if exhausted { work.push(nil) }
        sender.join()
        outcome = box.outcome
        outcome.timing.buildNanoseconds = build
        outcome.timing.producerWaitNanoseconds = blocked
        if oneThreadPays {
            outcome.timing.oneThreadAfterBatches = outcome.timing.batches
            var batch = spare.tryPop()?.0 ?? MessageBatch()
            executeInline(expectAcks: expectAcks, timeoutMilliseconds: timeoutMilliseconds, batch: &batch, into: &outcome, produce: produce)
        }
        return outcome
    }

    /// `executePipelined` on one thread, with one batch buffer reused throughout; adds to
    /// `outcome` (a two-thread write that stopped paying goes on here).
    private func executeInline(expectAcks: Bool, timeoutMilliseconds: Int32, batch: inout MessageBatch,
                               into outcome: inout BatchOutcome, produce: (inout MessageBatch) -> Int?) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var mark = PipelineTiming.now()
        while let first = produce(&batch) {
            outcome.timing.buildNanoseconds &+= PipelineTiming.now() &- mark
            do throws(NetlinkSocketError) {
                let o = try execute(batch, expectAcks: expectAcks, buffer: &buffer, timeoutMilliseconds: timeoutMilliseconds)
                outcome.succeeded += o.succeeded
                for f in o.failures { outcome.failures.append((first + f.index, f.error)) }
                outcome.timing.sendNanoseconds &+= o.timing.sendNanoseconds
                outcome.timing.acknowledgementNanoseconds &+= o.timing.acknowledgementNanoseconds
                outcome.timing.largestBatchBytes = max(outcome.timing.largestBatchBytes, o.timing.largestBatchBytes)
            } catch {
                outcome.unanswered.append((first..<first + batch.count, error))
            }
            outcome.timing.batches += 1
            batch.removeAll(keepingCapacity: true)
            mark = PipelineTiming.now()
        }
    }
}
