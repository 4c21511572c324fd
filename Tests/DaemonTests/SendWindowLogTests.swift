@testable import Daemon
import StateSync
import Testing
import TestSupport
import Timekeeping

/// The sender's limit cut by the peer's loss is said, at most every 10 s, with the cuts summed.
@Suite struct SendWindowLogTests {
    @Test func aCutIsSaidOnceAndLaterCutsAreSummed() {
        var log = SendWindowLog()
        var w = SendWindow(ceiling: 131_072, floor: 1_200)
        // The control: no cut, no line.
        #expect(log.line(w, now: ns(0)) == nil)
        w.lost(through: 10, inFlight: 131_072, nextSequence: 100)
        let first = log.line(w, now: ns(1_000))
        #expect(first?.contains("at most 65536 message(s)") == true)
        #expect(first?.contains("1 time(s)") == true)
        w.lost(through: 100, inFlight: 65_536, nextSequence: 200)
        w.lost(through: 200, inFlight: 32_768, nextSequence: 300)
        #expect(log.line(w, now: ns(5_000_000_000)) == nil)
        let later = log.line(w, now: ns(11_000_000_000))
        #expect(later?.contains("2 time(s)") == true)
        #expect(later?.contains("at most 16384 message(s)") == true)
        #expect(log.line(w, now: ns(30_000_000_000)) == nil)
    }
}
