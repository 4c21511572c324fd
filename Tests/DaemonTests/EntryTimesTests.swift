import Conntrack
@testable import Daemon
import StateSync
import Testing
import TestSupport
import Timekeeping

/// The caches keep an entry's times in four bytes each and its state and FTFW place in
/// one: what they give back must be what was put in, to the precision each use needs.
@Suite struct EntryTimesTests {
    static let second: UInt64 = 1_000_000_000
    static let day: UInt64 = 86_400 * second

    static func at(_ ns: UInt64) -> Instant { Instant(nanoseconds: ns) }

    static func flow(_ n: UInt32) -> SyncedFlow { ExternalCacheBoundTests.flow(n) }

    /// Every state beside every place, each set after the other: neither disturbs the other.
    @Test func stateAndPlaceShareAByteWithoutTouchingEachOther() throws {
        var cache = InternalCache(limit: 10)
        let recorded = cache.record(FlowFixtures.tcp, kind: .new, now: Self.at(5 * Self.second))
        let key = try #require(recorded)
        let i = try #require(cache.entries.index(forKey: key))
        let places: [FTFWPlace] = [.idle, .queued, .awaitingAcknowledgement(0), .awaitingAcknowledgement(7),
                                   .awaitingAcknowledgement(.max)]
        for state in [InternalCache.State.new, .alive, .dead] {
            for place in places {
                var e = cache.entries[valueAt: i]
                e.state = state
                e.place = place
                #expect(e.state == state && e.place == place)
                e.state = state == .dead ? .new : .dead
                #expect(e.place == place)
                e.place = .queued
                e.state = state
                #expect(e.state == state && e.place == .queued)
            }
        }
    }

    /// `since` feeds the listings' "[active since Ns]", which count whole seconds as
    /// conntrackd does (the difference of two whole-second clocks).
    @Test func sinceIsKeptInWholeSeconds() throws {
        var cache = InternalCache(limit: 10)
        let recorded = cache.record(FlowFixtures.tcp, kind: .new, now: Self.at(12 * Self.second + 900_000_000))
        let key = try #require(recorded)
        let i = try #require(cache.entries.index(forKey: key))
        #expect(cache.entries[valueAt: i].since == Self.at(12 * Self.second))
        #expect((Self.at(13 * Self.second + 100_000_000) - cache.entries[valueAt: i].since).wholeSeconds == 1)
        var external = ExternalCache(limit: 10)
        external.apply(.flowNew, Self.flow(1), now: Self.at(12 * Self.second + 900_000_000))
        #expect(external.entries.values.first?.since == Self.at(12 * Self.second))
    }

    /// A resync's sweep compares the last write with a mark taken moments before the
    /// answer: a flow written 2 ms before the mark is stale, one written 2 ms after is not.
    @Test func theSweepTellsApartWritesMillisecondsApart() {
        var cache = ExternalCache(limit: 10)
        let t = 3_600 * Self.second
        cache.apply(.flowNew, Self.flow(1), now: Self.at(t))
        cache.apply(.flowNew, Self.flow(2), now: Self.at(t + 1_000_000))
        let mark = Self.at(t + 3_000_000)
        cache.apply(.flowUpdate, Self.flow(2), now: Self.at(t + 5_000_000))
        cache.apply(.flowNew, Self.flow(3), now: Self.at(t + 5_000_000))
        #expect(cache.removeNotUpdated(since: mark) == 1)
        #expect(Set(cache.entries.values.map { $0.synced.source }) == [Self.flow(2).source, Self.flow(3).source])
        // A mark before the first write finds nothing older than itself.
        #expect(cache.removeNotUpdated(since: Self.at(t - Self.second)) == 0)
    }

    /// Stamps count milliseconds from the first write and would overflow after 49 days:
    /// before that the epoch moves on, and every stamp with it. A flow written just
    /// before the move keeps its exact time; one older than the new epoch counts as
    /// written at it, older than any mark or cutoff still to come.
    @Test func theEpochMovesOnWithoutReorderingWrites() {
        var cache = ExternalCache(limit: 10)
        let t0 = 7 * Self.second
        cache.apply(.flowNew, Self.flow(1), now: Self.at(t0))
        let justBefore = t0 + (UInt64(1) << 31) * 1_000_000 - 1_000_000
        cache.apply(.flowNew, Self.flow(2), now: Self.at(justBefore))
        let after = t0 + 30 * Self.day
        cache.apply(.flowNew, Self.flow(3), now: Self.at(after))
        func updated(_ n: UInt32) -> Instant? {
            cache.entries.values.first { $0.synced.source == Self.flow(n).source }.map { cache.updated(of: $0) }
        }
        #expect(updated(2) == Self.at(justBefore))
        #expect(updated(3) == Self.at(after))
        let one = updated(1)
        #expect(one.map { $0 > Self.at(t0) && $0 < Self.at(justBefore) } == true)
        // ALARM's expiry by the moved stamps: a day's lifetime drops the first two only.
        cache.expire(now: Self.at(after + Self.second), lifetime: .seconds(86_400))
        #expect(cache.entries.values.map { $0.synced.source } == [Self.flow(3).source])
        // And a sweep after the move still tells a millisecond apart.
        cache.apply(.flowNew, Self.flow(4), now: Self.at(after + 2 * Self.second))
        let mark = Self.at(after + 2 * Self.second + 1_000_000)
        cache.apply(.flowUpdate, Self.flow(4), now: Self.at(after + 2 * Self.second + 2_000_000))
        #expect(cache.removeNotUpdated(since: mark) == 1)
        #expect(cache.entries.values.map { $0.synced.source } == [Self.flow(4).source])
    }
}
