import Foundation
import TestSupport
import Testing

/// A conntrack table that fills up during a commit: `tandem conntrackd -c` and a `tandem
/// run` promotion keep running, count exactly what did not fit (ENOMEM), raise the VIPs
/// with what did, and write the rest once the table has room.
///
/// The limit, nf_conntrack_max, is global on this kernel (each namespace counts its own
/// entries against it), so lowering it would starve every other test's namespaces: this
/// suite runs alone, after the others (`scripts/test`'s second phase), and restores the
/// limit whatever happens.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct GlobalTableLimitTests {
    static let limitPath = "/proc/sys/net/netfilter/nf_conntrack_max"
    static let flows = 300

    /// Runs `body` with nf_conntrack_max at `limit`, then puts back what it was.
    static func withTableLimit<T>(_ limit: Int, _ body: () throws -> T) throws -> T {
        let saved = Vectors.readText(limitPath).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(Int(saved) != nil, "cannot read \(limitPath)")
        try String(limit).write(toFile: limitPath, atomically: false, encoding: .utf8)
        defer { try? saved.write(toFile: limitPath, atomically: false, encoding: .utf8) }
        return try body()
    }

    static func count(_ ns: TestNamespace) -> Int {
        Int(ns.run(["conntrack", "-C"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    typealias Pair = ConntrackdInteropTests.Pair

    /// B's `-c` with the table limited to `limit` (nil: no limit); returns what B's log and
    /// kernel showed right after the commit and once the limit is lifted.
    func commit(limit: Int?, tag: String) throws -> (log: String, countAtCommit: Int, countLater: Int, status: String) {
        let pair = try Pair(tag, a: .tandem, b: .tandem)
        defer { pair.stop() }
        usleep(1_500_000)
        try #require(ConntrackdLossTests.insert(Self.flows, in: pair.a).status == 0)
        let arrived = ConntrackdLossTests.arrival(of: Self.flows, in: pair, within: 20)
        try #require(arrived == Self.flows, "B's external cache holds \(arrived)")
        let commitAndCount = { () -> Int in
            _ = pair.query("b", ["-c"])
            var n = 0
            _ = pair.eventually(5) { n = Self.count(pair.b); return n >= (limit ?? Self.flows) }
            usleep(300_000)
            return Self.count(pair.b)
        }
        let atCommit = try limit.map { try Self.withTableLimit($0, commitAndCount) } ?? commitAndCount()
        var later = 0
        _ = pair.eventually(25) { later = Self.count(pair.b); return later == Self.flows }
        usleep(300_000)
        let status = pair.b.run([Shell.tandem, "status", "--conntrackd-config", "\(pair.dir)/b.conf"]).stdout
        return (Vectors.readText("\(pair.dir)/b.log"), atCommit, later, status)
    }

    @Test func aCommitIntoAFullTableCountsWhatDidNotFitAndWritesItLater() throws {
        let limit = 200
        let r = try commit(limit: limit, tag: "lim")
        let refused = Self.flows - r.countAtCommit
        #expect(r.countAtCommit == limit, "\(r.log)")
        // conntrackd's lines, exact, then the cause and the promise.
        #expect(r.log.contains("Committed \(limit) new entries"), "\(r.log)")
        #expect(r.log.contains("\(refused) entries can't be committed"), "\(r.log)")
        #expect(r.log.contains("commit failures by cause: \(refused) ENOMEM (the conntrack table is full: nf_conntrack_max)"), "\(r.log)")
        #expect(r.log.contains("\(refused) flows did not fit"), "\(r.log)")
        // Once the limit is back, the rest follows without another -c.
        #expect(r.countLater == Self.flows, "\(r.log)")
        #expect(r.log.contains("\(refused) of the \(refused) flows that did not fit are now in the kernel; none left waiting"), "\(r.log)")
        #expect(r.status.contains("table full at commit: 0 flows wait for space (nf_conntrack_max), \(refused) written later, 0 expired waiting"), "\(r.status)")
    }

    /// The control: the same commit with the table's usual limit loses nothing and says so.
    @Test func withRoomEveryFlowIsCommittedAtOnce() throws {
        let r = try commit(limit: nil, tag: "nol")
        #expect(r.countAtCommit == Self.flows, "\(r.log)")
        #expect(r.log.contains("Committed \(Self.flows) new entries"), "\(r.log)")
        #expect(!r.log.contains("can't be committed") && !r.log.contains("did not fit"), "\(r.log)")
        #expect(!r.status.contains("table full at commit"), "\(r.status)")
    }

    /// `tandem run`: the master stops, the backup's promotion meets a full table. It takes
    /// the VIP with what fit, says what did not, and writes the rest once there is room.
    @Test func aPromotionIntoAFullTableRaisesTheVIPAndCatchesUp() throws {
        let pair = try RunPair(tag: "lip", prefix: "tdq", subnet: "10.98.0")
        defer { pair.remove() }
        let (link, b) = (pair.link, pair.b)
        try #require(ConntrackdLossTests.insert(Self.flows, in: link.a).status == 0)
        let external = { pair.count("-e", on: b) }
        try #require(FailoverNodeTests.waitUntil(20) { external() == Self.flows }, "B's external cache: \(external())")
        let limit = 200
        let atPromotion = try Self.withTableLimit(limit) { () -> (vip: Bool, count: Int) in
            pair.nodeA?.stop()
            let vip = FailoverNodeTests.waitUntil(10) { b.holdsVIP }
            usleep(500_000)
            return (vip, Self.count(link.b))
        }
        var later = 0
        let caughtUp = FailoverNodeTests.waitUntil(25) { later = Self.count(link.b); return later == Self.flows }
        let log = Vectors.readText(b.log)
        #expect(atPromotion.vip, "B never took the VIP: \(log)")
        #expect(atPromotion.count == limit, "\(log)")
        #expect(log.contains("committed \(limit) flows (\(Self.flows - limit) failed)"), "\(log)")
        #expect(log.contains("commit failures by cause: \(Self.flows - limit) ENOMEM"), "\(log)")
        #expect(caughtUp, "B's table holds \(later) of \(Self.flows): \(log)")
        #expect(b.holdsVIP, "\(log)")
    }
}
