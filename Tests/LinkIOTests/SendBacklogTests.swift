@testable import LinkIO
import Testing

/// The datagrams a full send buffer turned away: kept in order, counted once, bounded.
@Suite struct SendBacklogTests {
    static func batch(_ sizes: [Int], fill: UInt8 = 0) -> (bytes: [UInt8], ends: [Int]) {
        var bytes: [UInt8] = [], ends: [Int] = []
        for (i, n) in sizes.enumerated() {
            bytes += [UInt8](repeating: fill &+ UInt8(i), count: n)
            ends.append(bytes.count)
        }
        return (bytes, ends)
    }

    @Test func keepsTheUnsentTailInOrder() {
        var b = SendBacklog()
        let first = Self.batch([3, 2, 4])
        b.keep(first.bytes, ends: first.ends, from: 1, fresh: true)
        let second = Self.batch([1], fill: 9)
        b.keep(second.bytes, ends: second.ends, from: 0, fresh: true)
        #expect(b.count == 3 && b.deferred == 3)
        let taken = b.take()
        #expect(taken.ends == [2, 6, 7])
        #expect(taken.bytes == [1, 1, 2, 2, 2, 2, 9])
        #expect(b.isEmpty)
        // A retry that still does not fit is not counted again.
        b.keep(taken.bytes, ends: taken.ends, from: 2, fresh: false)
        #expect(b.count == 1 && b.deferred == 3 && b.take().bytes == [9])
    }

    @Test func theOldestGoWhenItIsFullAndAreCounted() {
        var b = SendBacklog(limit: 2)
        let x = Self.batch([1, 2, 3, 4])
        b.keep(x.bytes, ends: x.ends, from: 0, fresh: true)
        #expect(b.count == 2 && b.dropped == 2 && b.deferred == 4)
        let taken = b.take()
        #expect(taken.ends == [3, 7])
        #expect(taken.bytes == [2, 2, 2, 3, 3, 3, 3])
    }
}
