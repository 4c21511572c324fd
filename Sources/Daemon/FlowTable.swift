import CLinux

/// The caches' table: flows by key, built for hundreds of thousands of entries that
/// arrive in bursts.
///
/// `Dictionary` was a quarter of the sender's CPU and most of its memory peak: SipHash
/// for every look-up, and each doubling moved every 80-byte entry while the old and the
/// new storage were both resident. Here entries live densely in fixed-size chunks that
/// never move, and the index is an open-addressing array of 8-byte slots (the hash's
/// upper half as a tag, the entry's position in the lower half) which grows by rehashing
/// tags alone. Linear probing with backward-shift deletion: no tombstones to sweep.
///
/// The hash is keyed with a per-table random seed: the keys come from traffic, and a
/// fixed function would let a sender aim every flow at one probe chain.
///
/// An entry is its value alone: the key is derived from it (`FlowKeyed`), since every
/// cached flow carries its original tuple anyway; a stored copy was 16 of every 88 bytes
/// of the internal cache and 16 of 64 of the external one.
struct FlowTable<Value: FlowKeyed> {
    typealias Entry = Value

    /// Entry positions, 0 ..< count, stable until a removal moves the last entry into the gap.
    typealias Index = Int

    private static var chunkShift: Int { 12 }
    private static var chunkSize: Int { 1 << chunkShift }

    private var chunks: [[Entry]] = []
    private var slots: [UInt64]
    private var mask: Int
    private let seed: UInt64
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        seed = UInt64.random(in: 1 ... .max)
    }

    var isEmpty: Bool { count == 0 }

    /// Entries the index takes before it next doubles.
    var capacity: Int { slots.count / 2 }

    // MARK: slots

    private static func tag(of slot: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: slot >> 32) }
    private static func position(of slot: UInt64) -> Int { Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1 }
    private static func slot(tag: UInt32, position: Int) -> UInt64 { UInt64(tag) << 32 | UInt64(position + 1) }

    private func tag(for key: FlowKey) -> UInt32 {
        UInt32(truncatingIfNeeded: key.mixedHash(seed: seed) >> 32)
    }

    /// The slot holding `key`, or the empty slot where it would go.
    private func probe(_ key: FlowKey, tag: UInt32) -> (slot: Int, found: Bool) {
        var i = Int(tag) & mask
        while true {
            let s = slots[i]
            if s == 0 { return (i, false) }
            if Self.tag(of: s) == tag && element(at: Self.position(of: s)).isKeyed(by: key) { return (i, true) }
            i = (i + 1) & mask
        }
    }

    private mutating func growIfNeeded() {
        guard (count + 1) * 2 > slots.count else { return }
        let old = slots
        slots = Array(repeating: 0, count: old.count * 2)
        mask = slots.count - 1
        for s in old where s != 0 {
            var i = Int(Self.tag(of: s)) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = s
        }
    }

    /// Empties slot `i` and pulls later members of its probe chain back over the gap.
    private mutating func vacate(_ i: Int) {
        var gap = i
        var j = (i + 1) & mask
        while slots[j] != 0 {
            let home = Int(Self.tag(of: slots[j])) & mask
            // Move j into the gap unless its home lies cyclically in (gap, j].
            let homeAfterGap = gap <= j ? (home > gap && home <= j) : (home > gap || home <= j)
            if !homeAfterGap {
                slots[gap] = slots[j]
                gap = j
            }
            j = (j + 1) & mask
        }
        slots[gap] = 0
    }

    private func slotIndex(ofPosition p: Int) -> Int {
        let key = element(at: p).flowKey
        var i = Int(tag(for: key)) & mask
        while Self.position(of: slots[i]) != p { i = (i + 1) & mask }
        return i
    }

    // MARK: dense storage

    private func element(at p: Int) -> Entry {
        chunks[p >> Self.chunkShift][p & (Self.chunkSize - 1)]
    }

    private mutating func append(_ e: Entry) -> Int {
        if count == chunks.count << Self.chunkShift {
            var chunk: [Entry] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(e)
        count += 1
        return count - 1
    }

    // MARK: access

    /// Starts loading the slot where a look-up of `key` begins: a caller with a batch of
    /// keys prefetches them all first, and the batch's cache misses overlap.
    func prefetch(_ key: FlowKey) {
        let i = Int(tag(for: key)) & mask
        slots.withUnsafeBufferPointer { clinux_prefetch($0.baseAddress! + i) }
    }

    func index(forKey key: FlowKey) -> Index? {
        let (i, found) = probe(key, tag: tag(for: key))
        return found ? Self.position(of: slots[i]) : nil
    }

    subscript(key: FlowKey) -> Value? {
        get { index(forKey: key).map { self[valueAt: $0] } }
        set { update(key) { $0 = newValue } }
    }

    /// Borrowed and changed in place: reading or setting one field of an entry copies
    /// nothing else.
    subscript(valueAt p: Index) -> Value {
        _read { yield chunks[p >> Self.chunkShift][p & (Self.chunkSize - 1)] }
        _modify { yield &chunks[p >> Self.chunkShift][p & (Self.chunkSize - 1)] }
    }

    func key(at p: Index) -> FlowKey { element(at: p).flowKey }

    /// One look-up for read, insert, change or removal: `body` sees the value (nil if
    /// absent) and leaves what should be there.
    @discardableResult
    mutating func update<R>(_ key: FlowKey, _ body: (inout Value?) -> R) -> R {
        let t = tag(for: key)
        let (i, found) = probe(key, tag: t)
        if found {
            let p = Self.position(of: slots[i])
            var v: Value? = self[valueAt: p]
            let r = body(&v)
            if let v {
                assert(v.isKeyed(by: key), "a value changed into one filed under another key")
                self[valueAt: p] = v
            } else {
                remove(slot: i, position: p)
            }
            return r
        }
        var v: Value? = nil
        let r = body(&v)
        guard let v else { return r }
        assert(v.isKeyed(by: key), "a value filed under a key it does not derive")
        if (count + 1) * 2 > slots.count {
            growIfNeeded()
            let (j, _) = probe(key, tag: t)
            slots[j] = Self.slot(tag: t, position: append(v))
        } else {
            slots[i] = Self.slot(tag: t, position: append(v))
        }
        return r
    }

    mutating func remove(at p: Index) {
        remove(slot: slotIndex(ofPosition: p), position: p)
    }

    @discardableResult
    mutating func removeValue(forKey key: FlowKey) -> Value? {
        let (i, found) = probe(key, tag: tag(for: key))
        guard found else { return nil }
        let p = Self.position(of: slots[i])
        let v = self[valueAt: p]
        remove(slot: i, position: p)
        return v
    }

    /// The last entry moves into the removed one's place, so storage stays dense.
    private mutating func remove(slot i: Int, position p: Int) {
        vacate(i)
        let last = count - 1
        if p != last {
            let moved = element(at: last)
            slots[slotIndex(ofPosition: last)] = Self.slot(tag: tag(for: moved.flowKey), position: p)
            chunks[p >> Self.chunkShift][p & (Self.chunkSize - 1)] = moved
        }
        chunks[chunks.count - 1].removeLast()
        if chunks[chunks.count - 1].isEmpty { chunks.removeLast() }
        count -= 1
    }

    mutating func removeAll() {
        chunks = []
        slots = Array(repeating: 0, count: 16)
        mask = 15
        count = 0
    }

    /// The values in storage order.
    var values: LazyMapSequence<Range<Int>, Value> { (0 ..< count).lazy.map { self[valueAt: $0] } }
}

extension FlowTable: Sequence {
    struct Iterator: IteratorProtocol {
        let table: FlowTable
        var position = 0
        mutating func next() -> (key: FlowKey, value: Value)? {
            guard position < table.count else { return nil }
            defer { position += 1 }
            let e = table.element(at: position)
            return (e.flowKey, e)
        }
    }

    func makeIterator() -> Iterator { Iterator(table: self) }
    var underestimatedCount: Int { count }
}

extension FlowTable: Sendable where Value: Sendable {}

/// A value that names its own flow: the key `FlowTable` files it under.
protocol FlowKeyed {
    var flowKey: FlowKey { get }
    /// `flowKey == key`, where a value can tell more cheaply than by making its key.
    func isKeyed(by key: FlowKey) -> Bool
}

extension FlowKeyed {
    func isKeyed(by key: FlowKey) -> Bool { flowKey == key }
}
