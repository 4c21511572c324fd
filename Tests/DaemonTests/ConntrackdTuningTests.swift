import ConfigParsing
import Conntrack
@testable import Daemon
import Foundation
import IPAddressing
import Timekeeping
import TestSupport
import Testing

/// conntrackd.conf's tuning keywords have their effect: HashSize sizes the caches,
/// EventIterationLimit bounds a loop turn, Scheduler changes the loop thread's class.
@Suite(.serialized) struct ConntrackdTuningTests {
    @Test func hashSizeSizesTheCaches() {
        let sized = InternalCache(limit: 262144, initialCapacity: 32768)
        let external = ExternalCache(limit: 262144, initialCapacity: 32768)
        #expect(sized.capacityBeforeGrowth >= 32768 && external.capacityBeforeGrowth >= 32768)
        // The control: without it the tables start small and grow.
        #expect(InternalCache(limit: 262144).capacityBeforeGrowth < 32768)
    }

    /// A turn takes about EventIterationLimit events (rounded up to a receive batch of
    /// 64) and says more are waiting; a large limit takes them all in one turn.
    @Test(.enabled(if: Shell.isRoot, "needs root"))
    func eventIterationLimitBoundsATurn() throws {
        let ns = try TestNamespace("iter", prefix: "tdn")
        defer { ns.remove() }
        func reader(_ limit: Int) throws -> KernelEventReader {
            try KernelEventReader(open: { try ConntrackEventListener(events: .flows, namespace: ns.name) },
                                  ownPort: 0, filter: FlowFilter(rules: []), compact: false, readsPerTurn: limit)
        }
        let small = try reader(100)
        let large = try reader(4096)
        let kernel = try ConntrackConnection(namespace: ns.name)
        let flows = (0..<300).map { i in
            var f = Flow(original: Tuple(source: IPAddress("10.235.2.1")!, destination: IPAddress("10.235.2.2")!,
                                         protocolNumber: IPProtocolNumber.udp, sourcePort: UInt16(1000 + i), destinationPort: 53))
            f.timeout = 60
            f.status = .confirmed
            return f
        }
        let r = try kernel.create(flows)
        #expect(r.succeeded == 300)
        let more = try small.read(now: .now())
        #expect(more, "a limit of 100 leaves events waiting")
        #expect(small.events.count >= 100 && small.events.count < 100 + 64, "\(small.events.count)")
        // The control: 4096 per turn takes all 300 at once.
        let rest = try large.read(now: .now())
        #expect(!rest && large.events.count == 300, "\(large.events.count)")
    }

    /// Scheduler { Type RR Priority 1 } puts the calling thread (the daemon's loop) in
    /// SCHED_RR; another thread keeps the default.
    @Test(.enabled(if: Shell.isRoot, "needs root"))
    func schedulerAppliesToTheLoopThread() {
        final class Seen: @unchecked Sendable {
            var applied: String? = "not run"
            var after: (policy: Int32, priority: Int32) = (-1, -1)
            var other: (policy: Int32, priority: Int32) = (-1, -1)
        }
        let seen = Seen()
        let done = DispatchSemaphore(value: 0)
        Thread {
            seen.applied = RealtimeScheduler.apply(.init(policy: .roundRobin, priority: 1))
            seen.after = RealtimeScheduler.current()
            done.signal()
        }.start()
        done.wait()
        Thread {
            seen.other = RealtimeScheduler.current()
            done.signal()
        }.start()
        done.wait()
        let (applied, after, other) = (seen.applied, seen.after, seen.other)
        #expect(applied == nil)
        #expect(after.policy == 2 && after.priority == 1, "SCHED_RR priority 1: \(after)")
        #expect(other.policy == 0, "the control thread keeps SCHED_OTHER: \(other)")
    }
}
