#if canImport(Glibc)
import Glibc
#endif
import Testing
import Timekeeping

@Suite struct InstantTests {
    /// The loops' deadlines assume the clock never goes back and moves at real speed.
    @Test func neverGoesBackAndFollowsASleep() {
        var last = Instant.now()
        for _ in 0..<10_000 {
            let now = Instant.now()
            #expect(now >= last)
            last = now
        }
        let before = Instant.now()
        var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
        nanosleep(&pause, nil)
        #expect(Instant.now() - before >= .milliseconds(20))
    }

    @Test func arithmeticIsExactAndSaturates() {
        let t = Instant(nanoseconds: 5_000_000_000)
        #expect(t + .milliseconds(250) == Instant(nanoseconds: 5_250_000_000))
        #expect(t - .seconds(1) == Instant(nanoseconds: 4_000_000_000))
        #expect((t + .microseconds(7)) - t == .microseconds(7))
        #expect(Instant.zero - t == .seconds(-5))
        #expect(Instant(nanoseconds: .max - 10) + .seconds(1) == .never)
        #expect(t - .seconds(10) == .zero)
        #expect(t.remaining(until: t - .seconds(1)) == .zero)
        #expect(t.remaining(until: t + .seconds(2)) == .seconds(2))
        #expect(Instant(nanoseconds: 1_234_567).microseconds == 1_234)
    }

    @Test func durationConversions() {
        #expect(Duration.milliseconds(1500).nanosecondCount == 1_500_000_000)
        #expect(Duration.seconds(-2).nanosecondCount == -2_000_000_000)
        #expect(Duration.microseconds(3_000_001).microsecondCount == 3_000_001)
        #expect(Duration.nanoseconds(1).millisecondsRoundedUp == 1)
        #expect(Duration.milliseconds(3).millisecondsRoundedUp == 3)
        #expect(Duration.nanoseconds(3_000_001).millisecondsRoundedUp == 4)
        #expect(Duration.zero.millisecondsRoundedUp == 0)
        #expect(Duration.seconds(-1).millisecondsRoundedUp == 0)
        #expect(Duration.milliseconds(250).secondsValue == 0.25)
        #expect(Duration.seconds(Int64.max).nanosecondCount == .max)
    }
}
