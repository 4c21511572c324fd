/// A bulk send of the internal cache, queued a slice a turn instead of all at once.
///
/// Queued whole, a resync answer held one transmit-queue entry per flow, and, since it went
/// out in one turn before any ACK could be read, one resend-queue entry per flow too: 54
/// bytes a flow on top of the cache's 90 at the sender's memory peak (`bench/scale.sh`,
/// 250k flows). A slice a turn lets the peer's ACKs in between, so only what is in flight
/// waits.
///
/// The walk goes by table position. Entries added meanwhile are sent by their own events.
/// A removal moves the table's last entry into the freed place (`FlowTable`); if that
/// carries an entry not yet visited behind the walk, the owner queues it at once
/// (`missesMove`), or the peer would never get it.
struct BulkWalk: Equatable {
    /// The next position to visit.
    private(set) var next = 0
    /// Positions at or past this were added after the walk began.
    private(set) var end: Int
    /// Whether the walk answers a resync request: its end is then marked for the peer.
    private(set) var endsTable: Bool

    init(count: Int, endsTable: Bool) {
        end = count
        self.endsTable = endsTable
    }

    /// Another bulk send asked for while this one runs: start over over the whole table,
    /// marking its end if either asked for that.
    mutating func restart(count: Int, endsTable: Bool) {
        next = 0
        end = count
        self.endsTable = self.endsTable || endsTable
    }

    /// The positions to queue now: at most `slice`, within the table as it is (`count`).
    mutating func take(_ slice: Int, count: Int) -> Range<Int> {
        end = min(end, count)
        let from = min(next, end)
        next = min(end, from + max(0, slice))
        return from ..< next
    }

    /// Every position of the walk has been visited.
    func isDone(count: Int) -> Bool { next >= min(end, count) }

    /// A removal moved the entry at `from` to `to`: true when the walk would now miss it
    /// (it was still ahead, and has landed behind).
    func missesMove(from: Int, to: Int) -> Bool { to < next && from >= next && from < end }
}
