#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Timekeeping

/// How a commit of the external cache runs, from the environment:
/// - `TANDEM_COMMIT_TIMING=1` logs where each commit spent its time (build, sendmsg,
///   acks, waits), the figures the commit benchmark needs to place its gap to ctbulk;
/// - `TANDEM_COMMIT_PIPELINED=1` writes the commit from two threads (making batches on
///   one while the other is inside sendmsg), `=0` from one; unset, two threads when the
///   process may run on two CPUs or more. On a quiet 2-core machine the batches (a third
///   of the commit's time) were made in series with the kernel's inserts, and the commit
///   ran at 63-70% of ctbulk's rate; with one CPU the hand-offs only add wake-ups;
/// - `TANDEM_TEST_LOUD_COMMIT=1` (test-only) makes `-c` commit with the event groups
///   joined, so the kernel echoes every committed flow to our event socket — the
///   control for the quiet commit's test;
/// - `TANDEM_TEST_HOLD_QUIET_COMMIT_MS=N` (test-only) keeps the groups left N ms after
///   the write, so a test can change the table while the events cannot see it (and makes
///   the commit that much slower, as a loaded machine does);
/// - `TANDEM_TEST_SEPARATE_REREAD=1` (test-only) keeps a quiet commit's re-read of the
///   table on its timer even when `-R` dumps the table first, as before — the control for
///   the test that `-R` does it;
/// - `TANDEM_TEST_NO_STASH=1` (test-only) leaves the peer's datagrams in the socket during
///   a commit or a dump, as before `ChannelSet.stash()` — the control for its test.
struct CommitTuning {
    var logsTiming = false
    var loud = false
    /// nil: decided by the CPUs the process may use (`writesOnTwoThreads`).
    var pipelined: Bool?
    var holdQuietWindow: Duration = .zero
    var stashes = true
    var separateReread = false

    static func fromEnvironment(_ value: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> CommitTuning {
        var t = CommitTuning()
        t.logsTiming = value("TANDEM_COMMIT_TIMING").map { $0 != "" && $0 != "0" } ?? false
        t.pipelined = value("TANDEM_COMMIT_PIPELINED").flatMap { $0 == "" ? nil : $0 != "0" }
        t.loud = value("TANDEM_TEST_LOUD_COMMIT").map { $0 != "" && $0 != "0" } ?? false
        t.separateReread = value("TANDEM_TEST_SEPARATE_REREAD").map { $0 != "" && $0 != "0" } ?? false
        t.stashes = value("TANDEM_TEST_NO_STASH").map { $0 == "" || $0 == "0" } ?? true
        if let ms = value("TANDEM_TEST_HOLD_QUIET_COMMIT_MS").flatMap({ Int($0) }), ms > 0 {
            t.holdQuietWindow = .milliseconds(Int64(min(ms, 60_000)))
        }
        return t
    }

    /// Whether a commit writes from two threads: as set, else with two usable CPUs.
    var writesOnTwoThreads: Bool { pipelined ?? (Self.usableCPUs >= 2) }

    static var usableCPUs: Int { Int(clinux_usable_cpus()) }

    /// One line: the whole commit, then each thread's part (see `PipelineTiming`).
    static func timingLine(_ r: CommitReport, quiet: Bool) -> String {
        let us = max(0, r.duration.microsecondCount)
        let rate = us > 0 ? Int64(r.flows) * 1_000_000 / us : 0
        var line = "commit timing: \(r.flows) flows in \(us / 1000).\((us % 1000) / 100) ms (\(rate) flows/s); \(r.timing.summary)"
        if quiet { line += "; event groups left and joined again: \(max(0, r.quietOverhead.microsecondCount)) us" }
        return line
    }
}
