@testable import LinkIO
import Testing

/// Messages are packed while `buffered + message < payload` (spec §4.4), whether their
/// length is known before they are written or only after.
struct DatagramBatchTests {
    static func message(_ n: Int, _ fill: UInt8) -> [UInt8] { [UInt8](repeating: fill, count: n) }

    static func datagrams(_ b: DatagramBatch) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var start = 0
        for end in b.ends {
            out.append(Array(b.bytes[start..<end]))
            start = end
        }
        return out
    }

    @Test func lengthKnownFirst() {
        var b = DatagramBatch()
        for (i, n) in [40, 40, 19, 30].enumerated() {
            let m = Self.message(n, UInt8(i))
            b.makeRoom(for: n, limit: 100)
            m.withUnsafeBytes { b.append($0) }
        }
        // 40 + 40 + 19 = 99 < 100 fits; the 30 opens a second datagram.
        #expect(Self.datagrams(b).map(\.count) == [99])
        #expect(!b.openIsEmpty)
        b.closeOpen()
        #expect(Self.datagrams(b).map(\.count) == [99, 30])
    }

    @Test func lengthKnownAfter() {
        var b = DatagramBatch()
        for (i, n) in [40, 40, 20, 150, 10].enumerated() {
            let start = b.bytes.count
            b.bytes += Self.message(n, UInt8(i))
            b.settle(messageAt: start, limit: 100)
        }
        // 40 + 40 + 20 = 100 is not < 100: the 20 starts the next datagram, which the
        // oversized 150 then also closes; a message larger than a datagram goes alone.
        #expect(Self.datagrams(b).map(\.count) == [80, 20, 150])
        b.closeOpen()
        #expect(Self.datagrams(b).last == Self.message(10, 4))
    }

    @Test func sentDatagramsLeaveTheOpenOne() {
        var b = DatagramBatch()
        for n in [60, 60, 30] {
            b.makeRoom(for: n, limit: 100)
            Self.message(n, UInt8(n)).withUnsafeBytes { b.append($0) }
        }
        #expect(b.closedCount == 1)
        b.removeClosed()
        #expect(b.closedCount == 0)
        #expect(b.bytes == Self.message(60, 60) + Self.message(30, 30))
    }
}
