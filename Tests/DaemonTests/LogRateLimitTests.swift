@testable import Daemon
import Testing
import Timekeeping

/// A recurring refusal is logged once per cause every 10 s, the next line saying how many
/// were held back; another cause (another source) still gets its own first line.
@Suite struct LogRateLimitTests {
    static func at(_ ms: Int64) -> Instant { Instant(nanoseconds: UInt64(1_000_000_000 + ms * 1_000_000)) }

    @Test func oneLinePerCauseAndInterval() {
        var limit = LogRateLimit()
        #expect(limit.admit("ttl 10.0.0.9", now: Self.at(0)) == "")
        #expect((1...99).allSatisfy { limit.admit("ttl 10.0.0.9", now: Self.at(Int64($0) * 10)) == nil })
        // The control: another source is its own cause.
        #expect(limit.admit("ttl 10.0.0.8", now: Self.at(500)) == "")
        #expect(limit.admit("ttl 10.0.0.9", now: Self.at(10_000)) == " (99 more like it since the last line)")
        #expect(limit.admit("ttl 10.0.0.9", now: Self.at(20_001)) == "")
    }

    @Test func forgedSourcesCannotGrowTheTable() {
        var limit = LogRateLimit(causes: 4)
        for n in 0..<10 { #expect(limit.admit("source \(n)", now: Self.at(0)) == "") }
        // Forgotten when the table was emptied: its next line comes at once.
        #expect(limit.admit("source 0", now: Self.at(1)) == "")
    }
}
