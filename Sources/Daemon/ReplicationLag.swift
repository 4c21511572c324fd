import Histogram
import Timekeeping

/// How far behind the peer is: the `LagProbe`'s samples (a flow's kernel event to the
/// peer's ACK of it) in HdrHistograms of microseconds. "Now" is read from the current
/// and the previous minute, so one slow moment fades within two; the whole run is kept
/// for the metrics' histogram.
struct ReplicationLag {
    /// Lags up to this long are recorded as they are; longer ones count as this (the
    /// probe's patience is 10 s: nothing longer is ever measured).
    static let ceiling: Duration = .seconds(60)
    static let window: Duration = .seconds(60)

    struct Summary: Equatable {
        var samples: UInt64
        var median: Duration
        var p99: Duration
        var max: Duration
    }

    private(set) var whole = ReplicationLag.histogram()
    private var current = ReplicationLag.histogram()
    private var previous = ReplicationLag.histogram()
    private var currentSince: Instant?
    private(set) var last: Duration?
    private(set) var lastAt: Instant?
    /// The newest samples one by one, for the metrics' histogram: at most one per 100 ms
    /// (the probe's rate), so the kept 256 outlast any publish interval.
    private(set) var samples = PromotionTally.Observations()

    private static func histogram() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1, highestTrackableValue: UInt64(ceiling.microsecondCount), numberOfSignificantValueDigits: .two)
    }

    mutating func record(_ lag: Duration, now: Instant) {
        rotate(now: now)
        let us = UInt64(Swift.max(0, Swift.min(lag.microsecondCount, Self.ceiling.microsecondCount)))
        _ = whole.record(us)
        _ = current.record(us)
        last = lag
        lastAt = now
        samples.append(lag)
    }

    /// The last two minutes at most.
    func recent(now: Instant) -> Summary? {
        var h = current
        if let since = currentSince {
            if now - since >= Self.window * 2 { return nil }
            if now - since < Self.window { h.add(previous) }
        }
        return Self.summary(of: h)
    }

    /// Every sample since the start.
    var overall: Summary? { Self.summary(of: whole) }

    /// How many samples were at most each bound: a Prometheus histogram's cumulative buckets.
    func cumulativeCounts(atMost bounds: [Duration]) -> [UInt64] {
        bounds.map { b in whole.count(within: 0 ... UInt64(Swift.max(0, b.microsecondCount))) }
    }

    private static func summary(of h: Histogram<UInt64>) -> Summary? {
        guard h.totalCount > 0 else { return nil }
        return Summary(samples: h.totalCount, median: .microseconds(Int64(h.valueAtPercentile(50))),
                       p99: .microseconds(Int64(h.valueAtPercentile(99))), max: .microseconds(Int64(h.max)))
    }

    private mutating func rotate(now: Instant) {
        guard let since = currentSince else { currentSince = now; return }
        guard now - since >= Self.window else { return }
        if now - since >= Self.window * 2 {
            previous.reset()
        } else {
            previous = current
        }
        current.reset()
        currentSince = now
    }
}
