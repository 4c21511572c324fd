@testable import Daemon
import TestSupport
import Testing
import Timekeeping

/// The lag figures: "now" is the last two minutes at most, the whole run is kept for the
/// metrics' buckets, and the text says it as an operator reads it.
@Suite struct ReplicationLagTests {
    static let second: UInt64 = 1_000_000_000

    @Test func recentFiguresFadeWithinTwoMinutes() throws {
        var lag = ReplicationLag()
        for i in 1 ... 100 { lag.record(.milliseconds(i), now: ns(UInt64(i) * Self.second / 10)) }
        let recent = try #require(lag.recent(now: ns(10 * Self.second)))
        #expect(recent.samples == 100)
        #expect(abs(recent.median.secondsValue - 0.050) < 0.001)
        #expect(abs(recent.p99.secondsValue - 0.099) < 0.002)
        #expect(abs(recent.max.secondsValue - 0.100) < 0.002)
        #expect(lag.last == .milliseconds(100))

        // A minute later one fast sample: the slow ones are still in the previous window.
        lag.record(.milliseconds(1), now: ns(75 * Self.second))
        #expect(lag.recent(now: ns(75 * Self.second))?.samples == 101)
        // Another minute on, only the fast one is left; two minutes without a sample, none.
        lag.record(.milliseconds(2), now: ns(140 * Self.second))
        #expect(lag.recent(now: ns(140 * Self.second))?.samples == 2)
        #expect(lag.recent(now: ns(400 * Self.second)) == nil)
        #expect(lag.overall?.samples == 102)
        #expect(lag.cumulativeCounts(atMost: [.milliseconds(5), .milliseconds(50), .seconds(1)]) == [7, 52, 102])
    }

    @Test func theStatusLineSaysHowFarBehindThePeerIs() {
        let now = ns(100 * Self.second)
        var lag = ReplicationLag()
        lag.record(.milliseconds(3), now: ns(97 * Self.second))
        lag.record(.milliseconds(9), now: ns(98 * Self.second))
        let view = ControlPresenter.LagView(samples: 2, last: lag.last, lastAt: lag.lastAt, recent: lag.recent(now: now), probesUnanswered: 0)
        let text = ControlPresenter.lagText(view, now: now)
        #expect(text.hasPrefix("the peer is 9.0 ms behind (2s ago), p50 3.0 ms, p99 9.0 ms"), "\(text)")
        let none = ControlPresenter.LagView(samples: 0, last: nil, lastAt: nil, recent: nil, probesUnanswered: 3)
        #expect(ControlPresenter.lagText(none, now: now) == "no sample in the last 2 minutes (0 in all); 3 samples never acknowledged")
    }
}
