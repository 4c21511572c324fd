@testable import Daemon
import Testing
import TestSupport

/// The walk visits every entry present from its start to its end exactly once or more,
/// whatever is removed between slices, as long as moved entries it would miss are queued.
struct BulkWalkTests {
    /// A table of ids with `FlowTable`'s removal (the last entry fills the gap), walked a
    /// slice at a time with removals between slices. Returns the ids never visited that
    /// were present throughout.
    private func missed(followingMoves: Bool, seed: UInt64) -> Set<Int> {
        var rng = SplitMix64(seed: seed)
        var table = Array(0 ..< 1_000)
        var removed: Set<Int> = []
        var visited: Set<Int> = []
        var walk = BulkWalk(count: table.count, endsTable: true)
        while !walk.isDone(count: table.count) {
            for p in walk.take(37, count: table.count) { visited.insert(table[p]) }
            for _ in 0 ..< 5 where !table.isEmpty {
                let p = Int(rng.next() % UInt64(table.count))
                removed.insert(table[p])
                let last = table.count - 1
                if p != last {
                    table[p] = table[last]
                    if followingMoves && walk.missesMove(from: last, to: p) { visited.insert(table[p]) }
                }
                table.removeLast()
            }
            // Added meanwhile: past the walk's end, sent by their own events.
            table.append(10_000 + table.count)
        }
        return Set(0 ..< 1_000).subtracting(removed).subtracting(visited)
    }

    @Test func noEntryPresentThroughoutIsMissed() {
        for seed in UInt64(1) ... 20 { #expect(missed(followingMoves: true, seed: seed).isEmpty, "seed \(seed)") }
    }

    @Test func withoutFollowingMovesEntriesAreMissed() {
        // The control: the same walks, moves not followed, lose entries.
        let lost = (UInt64(1) ... 20).reduce(0) { $0 + missed(followingMoves: false, seed: $1).count }
        #expect(lost > 0)
    }

    @Test func slicesCoverTheTableOnce() {
        var w = BulkWalk(count: 10, endsTable: false)
        #expect(w.take(4, count: 10) == 0 ..< 4)
        #expect(w.take(4, count: 10) == 4 ..< 8)
        #expect(!w.isDone(count: 10))
        // The table shrank to 9: the walk ends there.
        #expect(w.take(4, count: 9) == 8 ..< 9)
        #expect(w.isDone(count: 9))
        #expect(w.take(4, count: 9).isEmpty)
    }

    @Test func aRestartBeginsAgainAndKeepsTheEndMark() {
        var w = BulkWalk(count: 10, endsTable: true)
        _ = w.take(6, count: 10)
        w.restart(count: 12, endsTable: false)
        #expect(w.endsTable)
        #expect(w.take(100, count: 12) == 0 ..< 12)
        #expect(BulkWalk(count: 0, endsTable: true).isDone(count: 0))
    }
}
