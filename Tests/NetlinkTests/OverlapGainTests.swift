import Netlink
import Testing

/// Two threads are kept only while a window of batches took clearly less wall time than
/// one thread would have (building plus sending); a busy machine's late wake-ups lose.
struct OverlapGainTests {
    /// `count` batches, each built in `build` ns and sent in `send` ns, the window taking `wall` ns.
    /// After a first window (never judged: it carries the thread's start).
    private func window(build: UInt64, send: UInt64, wall: UInt64, count: Int = OverlapGain.window) -> Bool? {
        var g = OverlapGain(now: 0)
        for _ in 0..<OverlapGain.window { g.built(1); g.returned(sendNanoseconds: 1) }
        #expect(g.verdict(now: 1_000) == nil)
        for _ in 0..<count {
            g.built(build)
            g.returned(sendNanoseconds: send)
        }
        return g.verdict(now: 1_000 + wall)
    }

    @Test func aQuietOverlapPays() {
        // The quiet commit: 0.65 ms to build, 1.16 ms in sendmsg, overlapped to the longer.
        let n = UInt64(OverlapGain.window)
        #expect(window(build: 650_000, send: 1_160_000, wall: n * 1_200_000) == true)
    }

    @Test func lateWakeUpsLose() {
        // The loaded commit: 1.1 + 1.8 ms of work a batch, 4.2 ms apart.
        let n = UInt64(OverlapGain.window)
        #expect(window(build: 1_100_000, send: 1_800_000, wall: n * 4_200_000) == false)
        // The control: the same work 2 ms apart pays.
        #expect(window(build: 1_100_000, send: 1_800_000, wall: n * 2_000_000) == true)
    }

    @Test func aProducerBoundWriteGainsTooLittle() {
        // IPv6 or NAT flows: building dwarfs sending, so overlapping saves under a tenth.
        let n = UInt64(OverlapGain.window)
        #expect(window(build: 19_000_000, send: 1_200_000, wall: n * 19_100_000) == false)
    }

    @Test func noVerdictBeforeAWindowAndANewOneAfter() {
        #expect(window(build: 1, send: 1, wall: 1_000_000_000, count: OverlapGain.window - 1) == nil)
        var g = OverlapGain(now: 0)
        // The first window, however slow, is not judged.
        for _ in 0..<OverlapGain.window { g.built(1_000); g.returned(sendNanoseconds: 1_000) }
        #expect(g.verdict(now: 1_000_000) == nil)
        for _ in 0..<OverlapGain.window { g.built(1_000); g.returned(sendNanoseconds: 1_000) }
        #expect(g.verdict(now: 2_000_000) == false)
        // The window started again: one more batch is no verdict.
        g.returned(sendNanoseconds: 1_000)
        #expect(g.verdict(now: 3_000_000) == nil)
    }
}
