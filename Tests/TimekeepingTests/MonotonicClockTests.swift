#if canImport(Glibc)
import Glibc
#endif
import Testing
import Timekeeping

@Suite struct MonotonicClockTests {
    /// The loops' deadlines assume the clock never goes back and moves at real speed.
    @Test func neverGoesBackAndFollowsASleep() {
        var last = MonotonicClock.nanoseconds()
        for _ in 0..<10_000 {
            let now = MonotonicClock.nanoseconds()
            #expect(now >= last)
            last = now
        }
        let before = MonotonicClock.nanoseconds()
        var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        nanosleep(&pause, nil)
        #expect(MonotonicClock.nanoseconds() - before >= 20_000_000)
    }
}
