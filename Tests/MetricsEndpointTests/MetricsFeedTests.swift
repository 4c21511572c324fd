@testable import Daemon
import Prometheus
import Testing
import Timekeeping

/// When the loop copies its figures: at once the first time, then every interval, sooner
/// when a scrape asks, but never twice within the minimum gap however often it is asked.
@Suite struct MetricsFeedTests {
    static func ms(_ n: Int64) -> Instant { Instant(nanoseconds: UInt64(1_000_000_000 + n * 1_000_000)) }

    @Test func publishesOnScheduleOrWhenAsked() {
        let requests = MetricsRequests()
        let feed = MetricsFeed(factory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()), requests: requests,
                               interval: .seconds(1), now: Self.ms(0))
        var gathered = 0
        let gather: (inout MetricsSnapshot) -> Void = { _ in gathered += 1 }
        feed.service(now: Self.ms(0), gather)
        #expect(feed.publishes == 1 && requests.generation == 1)
        // Nobody asked, the interval has not passed: nothing is gathered.
        feed.service(now: Self.ms(300), gather)
        #expect(feed.publishes == 1 && gathered == 1)
        // Asked: the next turn publishes, and the scrape sees the generation move.
        let asked = requests.ask()
        feed.service(now: Self.ms(320), gather)
        #expect(feed.publishes == 2 && requests.generation == asked + 1)
        // Asked again at once: within the minimum gap the request waits for a later turn.
        _ = requests.ask()
        feed.service(now: Self.ms(330), gather)
        #expect(feed.publishes == 2)
        feed.service(now: Self.ms(380), gather)
        #expect(feed.publishes == 3)
        // Unasked, the interval brings the next copy.
        feed.service(now: Self.ms(900), gather)
        #expect(feed.publishes == 3)
        feed.service(now: Self.ms(1380), gather)
        #expect(feed.publishes == 4 && gathered == 4)
    }
}
