import CoreMetrics
import Timekeeping

/// Writes absolute figures into swift-metrics handles. The daemon's counters are totals
/// it keeps itself, while a swift-metrics counter only goes up by increments: each series
/// remembers what it last published and adds the difference (a total that went down, as
/// keepalived's statistics do when cleared, resets the counter: Prometheus reads that as a
/// restart). A series is made the first time it is published, and stays.
///
/// Adding a metric is one call in `publish(_:)` (MetricsMapping.swift), with a line in
/// docs/metrics.md; a histogram's buckets are the backend's (`MetricsFeed.durationBuckets`).
final class MetricsPublisher {
    let factory: any MetricsFactory

    struct Series: Hashable {
        var name: String
        var labels: [String]

        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }
    }

    private var counters: [Series: (handle: CoreMetrics.Counter, published: Int64)] = [:]
    private var secondCounters: [Series: (handle: CoreMetrics.FloatingPointCounter, published: Double)] = [:]
    private var gauges: [Series: CoreMetrics.Gauge] = [:]
    private var timers: [Series: (handle: CoreMetrics.Timer, taken: Int)] = [:]

    init(factory: any MetricsFactory) { self.factory = factory }

    // Unlabelled series: Swift does not skip a defaulted positional argument in between.
    func counter(_ name: String, _ total: Int) { counter(name, [], total) }
    func gauge(_ name: String, _ value: Double) { gauge(name, [], value) }
    func gauge(_ name: String, _ value: Int) { gauge(name, [], Double(value)) }
    func gauge(_ name: String, _ value: Bool) { gauge(name, [], value ? 1.0 : 0.0) }
    func histogram(_ name: String, _ observations: PromotionTally.Observations) { histogram(name, [], observations) }

    /// A counter's total as the daemon keeps it.
    func counter(_ name: String, _ labels: [(String, String)], _ total: Int) {
        let key = Series(name, labels)
        let value = Int64(max(0, total))
        guard let series = counters[key] else {
            let handle = CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
            handle.increment(by: value)
            counters[key] = (handle, value)
            return
        }
        guard value != series.published else { return }
        if value > series.published {
            series.handle.increment(by: value - series.published)
        } else {
            series.handle.reset()
            series.handle.increment(by: value)
        }
        counters[key] = (series.handle, value)
    }

    /// A total of seconds (CPU time), which an integer counter would round away.
    func counter(_ name: String, _ labels: [(String, String)] = [], seconds total: Double) {
        let key = Series(name, labels)
        let series = secondCounters[key] ?? (CoreMetrics.FloatingPointCounter(label: name, dimensions: labels, factory: factory), 0)
        if total >= series.published {
            series.handle.increment(by: total - series.published)
        } else {
            series.handle.reset()
            series.handle.increment(by: total)
        }
        secondCounters[key] = (series.handle, total)
    }

    func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
        let key = Series(name, labels)
        if let handle = gauges[key] {
            handle.record(value)
        } else {
            let handle = CoreMetrics.Gauge(label: name, dimensions: labels, factory: factory)
            handle.record(value)
            gauges[key] = handle
        }
    }

    func gauge(_ name: String, _ labels: [(String, String)], _ value: Int) { gauge(name, labels, Double(value)) }

    func gauge(_ name: String, _ labels: [(String, String)], _ value: Bool) { gauge(name, labels, value ? 1.0 : 0.0) }

    /// Records the observations added since the last publish into a duration histogram.
    func histogram(_ name: String, _ labels: [(String, String)], _ observations: PromotionTally.Observations) {
        let key = Series(name, labels)
        let series = timers[key] ?? (CoreMetrics.Timer(label: name, dimensions: labels, factory: factory), 0)
        for d in observations.since(series.taken) {
            series.handle.recordNanoseconds(d.nanosecondCount)
        }
        timers[key] = (series.handle, observations.total)
    }
}
