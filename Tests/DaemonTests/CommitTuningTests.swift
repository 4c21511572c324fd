import Testing
@testable import Daemon

/// The commit's threading comes from `TANDEM_COMMIT_PIPELINED` when set and from the CPUs
/// the process may use when not: two threads only pay where a second CPU runs the sender.
@Suite struct CommitTuningTests {
    private func tuning(_ env: [String: String]) -> CommitTuning {
        CommitTuning.fromEnvironment { env[$0] }
    }

    @Test func unsetFollowsTheUsableCPUs() {
        let t = tuning([:])
        #expect(t.pipelined == nil)
        #expect(t.writesOnTwoThreads == (CommitTuning.usableCPUs >= 2))
        #expect(CommitTuning.usableCPUs >= 1)
    }

    @Test func setWinsEitherWay() {
        #expect(tuning(["TANDEM_COMMIT_PIPELINED": "1"]).writesOnTwoThreads)
        #expect(!tuning(["TANDEM_COMMIT_PIPELINED": "0"]).writesOnTwoThreads)
        #expect(tuning(["TANDEM_COMMIT_PIPELINED": ""]).pipelined == nil)
    }

    @Test func theOtherKnobsStillRead() {
        let t = tuning(["TANDEM_COMMIT_TIMING": "1", "TANDEM_TEST_HOLD_QUIET_COMMIT_MS": "250", "TANDEM_TEST_NO_STASH": "1"])
        #expect(t.logsTiming)
        #expect(t.holdQuietWindow == .milliseconds(250))
        #expect(!t.stashes)
        #expect(!tuning([:]).logsTiming)
    }
}
