import Testing
import Timekeeping
import VRRP

/// vrrp_track_process's quorum with its delays, on a virtual clock.
@Suite struct ProcessQuorumTests {
    let t0 = Instant(nanoseconds: 1_000_000_000)

    /// Feeds counts at times (seconds after t0); returns (changed, haveQuorum) after each.
    func run(_ q: inout ProcessQuorum, _ steps: [(Int, Int)]) -> [String] {
        steps.map { count, at in
            let changed = q.observe(count: count, now: t0 + .seconds(at))
            return "\(changed ? "changed" : "same") \(q.haveQuorum.map { $0 ? "quorum" : "none" } ?? "unknown")"
        }
    }

    @Test func quorumIsACountBetweenQuorumAndQuorumMax() {
        var q = ProcessQuorum(quorum: 2, quorumMax: 3)
        #expect(run(&q, [(1, 0), (2, 0), (3, 0), (4, 0)]) == ["changed none", "changed quorum", "same quorum", "changed none"])
        // quorum_max 0: the process must not run at all.
        var none = ProcessQuorum(quorum: 0, quorumMax: 0)
        #expect(run(&none, [(0, 0), (1, 0)]) == ["changed quorum", "changed none"])
    }

    @Test func delaysHoldAChangeUntilItHasLasted() {
        var q = ProcessQuorum(quorum: 1, quorumMax: 10, forkDelay: .seconds(2), terminateDelay: .seconds(5))
        // Gained: counts only after fork_delay, and only if still true then (the dip at
        // 1 s restarts it); lost: after terminate_delay.
        #expect(run(&q, [(0, 0), (1, 0), (0, 1), (1, 1), (1, 2), (1, 3)])
                == ["changed none", "same none", "same none", "same none", "same none", "changed quorum"])
        #expect(run(&q, [(0, 4)]) == ["same quorum"])
        #expect(q.nextDeadline == t0 + .seconds(9))
        #expect(run(&q, [(0, 8), (0, 9)]) == ["same quorum", "changed none"])
        #expect(q.nextDeadline == nil)
    }
}
