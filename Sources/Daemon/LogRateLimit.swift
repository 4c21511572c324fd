import Timekeeping

/// At most one log line per recurring cause every `interval`. A link full of foreign or
/// hostile packets would otherwise write a line per packet, and the lines that matter
/// would scroll away; the counters still count every one, and the next line says how many
/// were held back.
struct LogRateLimit {
    let interval: Duration
    /// Causes remembered at most: forged sources must not grow the table without bound.
    let causes: Int
    private var last: [String: (at: Instant, held: Int)] = [:]

    init(interval: Duration = .seconds(10), causes: Int = 256) {
        self.interval = interval
        self.causes = causes
    }

    /// The suffix for a line about `cause` now, or nil when the line is held back.
    mutating func admit(_ cause: String, now: Instant) -> String? {
        if let l = last[cause], now - l.at < interval {
            last[cause] = (l.at, l.held + 1)
            return nil
        }
        let held = last[cause]?.held ?? 0
        if last[cause] == nil, last.count >= causes { last.removeAll(keepingCapacity: true) }
        last[cause] = (now, 0)
        return held > 0 ? " (\(held) more like it since the last line)" : ""
    }
}
