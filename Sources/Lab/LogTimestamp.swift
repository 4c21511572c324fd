#if canImport(Glibc)
import Glibc
#endif

/// `tandem run` starts each log line with an ISO-8601 UTC time with milliseconds
/// (`2026-11-29T17:05:01.234Z`); the lab reads it back as epoch seconds.
enum LogTimestamp {
    static func parse<S: StringProtocol>(_ token: S) -> Double? {
        let t = token.hasSuffix("Z") ? token.dropLast() : token[...]
        let halves = t.split(separator: "T")
        guard halves.count == 2 else { return nil }
        let date = halves[0].split(separator: "-").compactMap { Int($0) }
        let clock = halves[1].split(separator: ":")
        guard date.count == 3, clock.count == 3, let h = Int(clock[0]), let m = Int(clock[1]), let s = Double(clock[2]) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(date[0] - 1900)
        parts.tm_mon = Int32(date[1] - 1)
        parts.tm_mday = Int32(date[2])
        parts.tm_hour = Int32(h)
        parts.tm_min = Int32(m)
        parts.tm_sec = 0
        let base = timegm(&parts)
        guard base != -1 else { return nil }
        return Double(base) + s
    }

    /// Lines of a `tandem run` log with their times, at or after `since`.
    static func lines(_ text: String, since: Double) -> [(time: Double, text: Substring)] {
        text.split(separator: "\n").compactMap { line in
            guard let space = line.firstIndex(of: " "), let t = parse(line[..<space]), t >= since else { return nil }
            return (t, line[line.index(after: space)...])
        }
    }
}
