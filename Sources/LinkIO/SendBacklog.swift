/// Datagrams the kernel would not take yet (the socket's send buffer full: EAGAIN or
/// ENOBUFS), kept in order and handed back before anything newer. NOTRACK and ALARM have
/// no resend of their own, so a datagram dropped here would be a flow the peer never
/// hears of; FTFW is spared resends. Bounded: past `limit` the oldest are dropped, and
/// counted.
public struct SendBacklog: Sendable {
    /// Datagrams back to back, datagram i ending at `ends[i]` (the batch send's layout).
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [Int] = []
    public let limit: Int
    /// Datagrams that had to wait, and datagrams dropped because the backlog was full.
    public private(set) var deferred = 0
    public private(set) var dropped = 0

    /// 4,096 full datagrams are about 6 MB: several times what a send buffer holds.
    public init(limit: Int = 4096) { self.limit = limit }

    public var isEmpty: Bool { ends.isEmpty }
    public var count: Int { ends.count }

    /// Keeps datagrams `from...` of a batch the kernel stopped taking; `fresh` ones are
    /// counted as deferred (a retry's were counted when they first waited).
    mutating func keep(_ batch: [UInt8], ends batchEnds: [Int], from first: Int, fresh: Bool) {
        guard first < batchEnds.count else { return }
        let start = first == 0 ? 0 : batchEnds[first - 1]
        let base = bytes.count - start
        bytes.append(contentsOf: batch[start..<batchEnds[batchEnds.count - 1]])
        for e in batchEnds[first...] { ends.append(e + base) }
        if fresh { deferred += batchEnds.count - first }
        trim()
    }

    /// Takes everything out, to be sent; what the kernel still refuses comes back
    /// through `keep`.
    mutating func take() -> (bytes: [UInt8], ends: [Int]) {
        defer { bytes = []; ends = [] }
        return (bytes, ends)
    }

    private mutating func trim() {
        let excess = ends.count - limit
        guard excess > 0 else { return }
        let cut = ends[excess - 1]
        bytes.removeFirst(cut)
        ends.removeFirst(excess)
        for i in ends.indices { ends[i] -= cut }
        dropped += excess
    }
}
