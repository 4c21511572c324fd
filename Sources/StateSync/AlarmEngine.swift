import Timekeeping

/// conntrackd's ALARM mode (spec §3.6): every change is sent at once, and every object is
/// sent again when its refresh timer fires (a random 1…RefreshTime s plus k·0.2 s − 1 µs).
/// No control messages at all. A receiver ignores any message with flags and lets its
/// external entries expire CacheTimeout after their last update.
public struct AlarmEngine<Key: Hashable & Sendable>: SyncEngine {
    /// Whole seconds (conntrackd draws the refresh delay in seconds).
    public let refreshTime: UInt64
    public private(set) var tracker = SequenceTracker()
    public private(set) var badMessageType = 0
    public var retransmissions: Int { refreshes }
    public private(set) var refreshes = 0
    private var nextSequence: UInt32
    private var queue: [Key] = []
    private var queued: Set<Key> = []
    private var timers = DeadlineHeap<Key>()
    private var deadlines: [Key: Instant] = [:]
    private var released: [Key] = []
    private var random: UInt64

    /// `seed` makes the refresh delays repeatable in tests.
    public init(firstSequence: UInt32, refreshSeconds: Int = 60, seed: UInt64 = 0x9E3779B97F4A7C15) {
        nextSequence = firstSequence
        refreshTime = UInt64(max(1, refreshSeconds))
        random = seed
    }

    public var nextDeadline: Instant { timers.peek?.deadline ?? .never }

    /// Hardening: the peer's line is expected at `s` again (see `SequenceJumpGuard`).
    public mutating func resumeLine(expecting s: UInt32) { tracker.accept(s &- 1) }

    public mutating func enqueue(_ key: Key) {
        if queued.insert(key).inserted { queue.append(key) }
    }

    /// ALARM has no resync: `-n` does nothing.
    public mutating func requestResync() {}

    public mutating func fire(now: Instant) {
        while let top = timers.peek, top.deadline <= now {
            _ = timers.pop()
            // Stale heap entries (the key was re-armed or removed since) are skipped.
            guard deadlines[top.key] == top.deadline else { continue }
            deadlines[top.key] = nil
            refreshes += 1
            enqueue(top.key)
        }
    }

    public mutating func transmit(now: Instant, render: (Key) -> (SyncMessageType, SyncMessage.Body)?) -> [SyncMessage] {
        var out: [SyncMessage] = []
        for key in queue {
            guard let (type, body) = render(key) else { deadlines[key] = nil; continue }
            out.append(SyncMessage(type: type, sequence: takeSequence(), body: body))
            if type == .flowDestroy || type == .expectationDestroy {
                deadlines[key] = nil
                released.append(key)
            } else {
                arm(key, now: now)
            }
        }
        queue.removeAll(keepingCapacity: true)
        queued.removeAll(keepingCapacity: true)
        return out
    }

    public mutating func receive(_ m: SyncMessage) -> [SyncEngineEvent] {
        // Anything with flags (an FTFW node's HELLO, any control message) is ignored.
        guard m.flags.isEmpty else { return [] }
        switch m.body {
        case .flow, .expectation:
            return [.apply(m)]
        case .control:
            badMessageType += 1
            return [.malformed(m)]
        }
    }

    public mutating func takeReleased() -> [Key] {
        defer { released.removeAll(keepingCapacity: true) }
        return released.filter { !queued.contains($0) && deadlines[$0] == nil }
    }

    private mutating func arm(_ key: Key, now: Instant) {
        // conntrackd: random whole seconds in 1…RefreshTime, plus k·0.2 s − 1 µs (k = 1…5).
        random = random &* 6364136223846793005 &+ 1442695040888963407
        let seconds = 1 + (random >> 33) % refreshTime
        let k = 1 + (random >> 13) % 5
        let delay = Duration.seconds(Int64(seconds)) + .milliseconds(200 * Int64(k)) - .microseconds(1)
        let deadline = now + delay
        deadlines[key] = deadline
        timers.push(deadline, key)
    }

    private mutating func takeSequence() -> UInt32 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }
}

/// A binary min-heap of (deadline, key), for per-object timers.
struct DeadlineHeap<Key: Sendable>: Sendable {
    private var items: [(deadline: Instant, key: Key)] = []

    var peek: (deadline: Instant, key: Key)? { items.first }
    var count: Int { items.count }

    mutating func push(_ deadline: Instant, _ key: Key) {
        items.append((deadline, key))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].deadline < items[parent].deadline else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (deadline: Instant, key: Key)? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].deadline < items[m].deadline { m = l }
            if r < items.count && items[r].deadline < items[m].deadline { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}
