/// Messages packed into datagrams for one send: the closed datagrams back to back in
/// `bytes` (datagram i ends at `ends[i]`), then the open one that messages still join.
/// A transmit run fills it and the channel sends the closed datagrams in one system
/// call; the open one may wait for the next run.
public struct DatagramBatch {
    public var bytes: [UInt8] = []
    public private(set) var ends: [Int] = []

    private var openStart: Int { ends.last ?? 0 }
    public var openIsEmpty: Bool { bytes.count == openStart }
    public var closedCount: Int { ends.count }

    /// Before a message of `length` bytes joins: the open datagram is closed unless
    /// `buffered + message < limit` (spec §4.4).
    public mutating func makeRoom(for length: Int, limit: Int) {
        if !openIsEmpty && bytes.count - openStart + length >= limit { ends.append(bytes.count) }
    }

    /// After a message was encoded at `start`, the end of the open datagram: if it does
    /// not fit, the datagram closes before it and it opens the next.
    public mutating func settle(messageAt start: Int, limit: Int) {
        if start > openStart && bytes.count - openStart >= limit { ends.append(start) }
    }

    public mutating func append(_ message: UnsafeRawBufferPointer) { bytes.append(contentsOf: message) }

    public mutating func closeOpen() { if !openIsEmpty { ends.append(bytes.count) } }

    /// After the closed datagrams went out: only the open one stays.
    public mutating func removeClosed() {
        let n = openStart
        guard n > 0 else { return }
        bytes.removeFirst(n)
        ends.removeAll(keepingCapacity: true)
    }
}
