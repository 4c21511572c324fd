/// The resend queue: entries in transmit order, removable by sequence range. Sequences
/// only grow (modulo 2³²) along the queue, so one is found by binary search; a
/// dictionary from sequence to slot cost two hash operations and ~40 bytes per message.
struct ResendQueue<Entry: Sendable>: Sendable {
    struct Item: Sendable {
        var sequence: UInt32
        var entry: Entry
    }

    /// Removed entries leave a nil until the front is compacted.
    private var items: [Item?] = []
    /// `items`' sequences, kept for removed ones too so the search can step on them.
    private var sequences: [UInt32] = []
    private var head = 0
    private(set) var count = 0

    /// The oldest waiting entry's sequence number.
    var oldestSequence: UInt32? { head < items.count ? items[head]?.sequence : nil }

    /// The waiting entries, oldest first.
    var ordered: [Item] { items[head...].compactMap { $0 } }

    mutating func append(sequence: UInt32, _ e: Entry) {
        items.append(Item(sequence: sequence, entry: e))
        sequences.append(sequence)
        count += 1
    }

    mutating func remove(sequence: UInt32) {
        guard let i = slot(of: sequence), items[i] != nil else { return }
        items[i] = nil
        count -= 1
        compact()
    }

    /// The slot holding `sequence`, if it is in the queue. Most look-ups are for a
    /// transmission already acknowledged, behind the queue: found so at once.
    private func slot(of sequence: UInt32) -> Int? {
        let i = firstSlot(notBefore: sequence)
        return i < sequences.count && sequences[i] == sequence ? i : nil
    }

    mutating func removeOldest() -> Item? {
        while head < items.count {
            if let item = items[head] {
                items[head] = nil
                head += 1
                count -= 1
                compact()
                return item
            }
            head += 1
        }
        return nil
    }

    /// Removes and returns, in queue order, every entry whose sequence is in `r`.
    mutating func remove(in r: ClosedRangeOfSequences) -> [Item] {
        var out: [Item] = []
        var i = firstSlot(notBefore: r.from)
        while i < items.count {
            if let item = items[i] {
                if sequence(item.sequence, in: r.from, r.to) {
                    out.append(item)
                    items[i] = nil
                    count -= 1
                } else if !sequence(item.sequence, isBefore: r.from) {
                    break // past the end of the range: the queue is in sequence order
                }
            }
            i += 1
        }
        compact()
        return out
    }

    /// Where a walk for sequences from `from` on starts: the first slot not before it. A
    /// NACK names recent messages, at the back of a queue of up to 131,072; walking to
    /// them from the front made every NACK cost the whole queue.
    private func firstSlot(notBefore from: UInt32) -> Int {
        guard head < sequences.count else { return head }
        let base = sequences[head]
        // A range starting before the queue's oldest entry starts at the front.
        if sequence(from, isBefore: base) { return head }
        let target = from &- base
        var lo = head, hi = sequences.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sequences[mid] &- base < target { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    mutating func removeAll() -> [Item] {
        let out = items[head...].compactMap { $0 }
        items.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        head = 0
        count = 0
        return out
    }

    private mutating func compact() {
        while head < items.count && items[head] == nil { head += 1 }
        if head == items.count && head > 0 {
            items.removeAll(keepingCapacity: true)
            sequences.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            sequences.removeFirst(head)
            head = 0
        }
    }
}
