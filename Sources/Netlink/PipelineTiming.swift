#if canImport(Glibc)
import Glibc
#endif

/// Where a pipelined batch write spent its time, per thread: what `TANDEM_COMMIT_TIMING`
/// prints so the gap between a commit and the kernel's insert ceiling can be placed. The
/// clock is read a few times per batch of a thousand messages, never per message.
public struct PipelineTiming: Sendable, Hashable {
    /// The caller's thread: building messages (and whatever its `produce` does besides).
    public var buildNanoseconds: UInt64 = 0
    /// The caller's thread, blocked because the sender had not taken the previous batches.
    public var producerWaitNanoseconds: UInt64 = 0
    /// The sender's thread inside sendmsg: without ACKs that is the kernel's own work.
    public var sendNanoseconds: UInt64 = 0
    /// The sender's thread reading ACKs and errors back.
    public var acknowledgementNanoseconds: UInt64 = 0
    /// The sender's thread with nothing to send yet.
    public var senderIdleNanoseconds: UInt64 = 0
    public var batches = 0
    /// The sendmsg calls (one per batch) and the largest batch in bytes.
    public var largestBatchBytes = 0
    /// Set when a two-thread write went on on one thread after this many batches, its
    /// overlap no longer paying for the hand-offs (`OverlapGain`).
    public var oneThreadAfterBatches: Int?

    public init() {}

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// "build 120.3 ms, waited for the sender 4.0 ms; sendmsg 310.2 ms, acks 1.1 ms, sender idle 2.3 ms; 100 batches (largest 212 kB)".
    public var summary: String {
        func ms(_ ns: UInt64) -> String {
            let tenths = ns / 100_000
            return "\(tenths / 10).\(tenths % 10) ms"
        }
        return "build \(ms(buildNanoseconds)), waited for the sender \(ms(producerWaitNanoseconds)); "
            + "sendmsg \(ms(sendNanoseconds)), acks \(ms(acknowledgementNanoseconds)), sender idle \(ms(senderIdleNanoseconds)); "
            + "\(batches) batches (largest \(largestBatchBytes / 1024) kB)"
            + (oneThreadAfterBatches.map { "; one thread after \($0) batches (two did not pay)" } ?? "")
    }
}
