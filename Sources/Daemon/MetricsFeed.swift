#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import Synchronization
import Timekeeping

/// What the HTTP side and the loop share: two atomics, nothing else. A scrape asks for a
/// fresh copy and waits (bounded) for the loop to publish one; the loop never waits for
/// the HTTP side and never takes a lock on its account.
public final class MetricsRequests: Sendable {
    private let asked = Atomic<Bool>(false)
    private let published = Atomic<Int>(0)

    public init() {}

    /// Asks the loop for a fresh copy; returns the generation to wait past.
    public func ask() -> Int {
        let generation = published.load(ordering: .acquiring)
        asked.store(true, ordering: .releasing)
        return generation
    }

    /// How many copies the loop has published.
    public var generation: Int { published.load(ordering: .acquiring) }

    func take() -> Bool { asked.load(ordering: .relaxed) && asked.exchange(false, ordering: .acquiringAndReleasing) }

    func didPublish() { _ = published.wrappingAdd(1, ordering: .releasing) }
}

/// The loop's side of `--metrics-listen`. Between two turns, at most every
/// `interval` (or sooner when a scrape has asked, but never more often than every
/// `minimumGap`), it copies the daemon's own counters into the metrics backend as
/// absolute values. Per flow nothing changes: the loop keeps counting in its plain fields,
/// and the cost is one copy per publish, whatever the traffic. A scrape therefore reads
/// figures at most `interval` old, plus one loop turn (docs/metrics.md).
public final class MetricsFeed {
    public static let defaultInterval = Duration.seconds(1)
    /// Scrapes may come as often as they like; the loop publishes at most this often.
    public static let minimumGap = Duration.milliseconds(50)

    /// Duration histograms' buckets, from a millisecond to half a minute: a promotion's
    /// commit runs from well under a millisecond (a few flows) to seconds (a full table).
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5),
        .seconds(10), .seconds(30),
    ]

    /// The replication lag histogram's buckets: a Tandem peer ACKs within 5 ms, conntrackd
    /// within a second at low rates, and the probe gives up at 10 s.
    public static let lagBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2_500), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2_500), .seconds(5), .seconds(10),
    ]
    /// Histograms whose buckets are not `durationBuckets`.
    public static let bucketsByName: [String: [Duration]] = ["tandem_replication_lag_seconds": lagBuckets]

    let requests: MetricsRequests
    let interval: Duration
    var publisher: MetricsPublisher
    private var lastPublished: Instant?
    let startedAt: Instant
    let startTimeSeconds: Double
    /// Publishes done, for tests and the status of the feed itself.
    public private(set) var publishes = 0

    public init(factory: any MetricsFactory, requests: MetricsRequests, interval: Duration = MetricsFeed.defaultInterval,
                now: Instant = .now()) {
        self.requests = requests
        self.interval = interval
        publisher = MetricsPublisher(factory: factory)
        startedAt = now
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        startTimeSeconds = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Called once per loop turn by the loop's owner; `gather` fills in the owner's parts
    /// and runs only when a copy is due.
    func service(now: Instant, _ gather: (inout MetricsSnapshot) -> Void) {
        let due: Bool
        if let last = lastPublished {
            let gap = now - last
            due = gap >= interval || (gap >= Self.minimumGap && requests.take())
        } else {
            due = true
        }
        guard due else { return }
        var snapshot = MetricsSnapshot(process: processFigures(now: now), replication: nil, vrrp: nil)
        gather(&snapshot)
        publisher.publish(snapshot)
        lastPublished = now
        publishes += 1
        requests.didPublish()
    }

    func processFigures(now: Instant) -> ProcessFigures {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ProcessFigures(footprint: .current(uptimeSeconds: Int((now - startedAt).wholeSeconds)),
                              startTimeSeconds: startTimeSeconds, cpuSeconds: cpu)
    }
}
