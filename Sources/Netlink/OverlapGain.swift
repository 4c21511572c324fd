/// Whether a write on two threads still beats the same write on one.
///
/// Two threads overlap making a batch with the kernel's work on the previous one, which
/// on a quiet machine hides the making entirely (the commit's build was a third of its
/// time). On a machine whose CPUs are busy, each hand-off waits for the other thread to be
/// scheduled, and the same commit ran at 0.47 of ctbulk's rate on two threads against 0.79
/// on one (docs/commit-speed.md). Which case holds is only known while writing, so the
/// write measures it: over each window of batches the sender has given back, one thread
/// would have taken the producer's building plus the sender's sending; two threads are
/// kept only while the window's wall time is clearly below that sum.
public struct OverlapGain: Sendable {
    /// Batches per verdict: long enough to average out one late wake-up, short enough
    /// that a losing write switches within a few percent of a 100k-flow commit.
    public static let window = 16

    private var started: UInt64
    private var building: UInt64 = 0
    private var sending: UInt64 = 0
    private var returned = 0
    /// The first window carries the sender thread's start and the first touch of every
    /// batch buffer: judged on it, one quiet 250k commit in five went on one thread.
    private var warm = false

    public init(now: UInt64) { started = now }

    /// The producer's time making one batch.
    public mutating func built(_ nanoseconds: UInt64) { building &+= nanoseconds }

    /// A batch the sender gave back, with its time inside sendmsg and reading answers.
    public mutating func returned(sendNanoseconds: UInt64) {
        sending &+= sendNanoseconds
        returned += 1
    }

    /// nil until a window after the first is complete; then whether two threads still pay (at least a
    /// tenth faster than one would have been), and a new window starts.
    public mutating func verdict(now: UInt64) -> Bool? {
        guard returned >= Self.window else { return nil }
        let elapsed = now &- started
        let serial = building &+ sending
        let wasWarm = warm
        defer {
            self = OverlapGain(now: now)
            warm = true
        }
        guard wasWarm else { return nil }
        return elapsed.multipliedReportingOverflow(by: 10).partialValue < serial.multipliedReportingOverflow(by: 9).partialValue
    }
}
