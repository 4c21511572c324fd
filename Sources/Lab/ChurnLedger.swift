/// Which churn flows a kernel dump held: one bit per churn key (`ChurnFlows.key`).
struct ChurnPresence {
    private(set) var words = [UInt64](repeating: 0, count: ChurnFlows.space / 64)

    mutating func insert(_ k: Int) { words[k >> 6] |= 1 << UInt64(k & 63) }
    func contains(_ k: Int) -> Bool { words[k >> 6] & (1 << UInt64(k & 63)) != 0 }

    /// Every key present, in order.
    var keys: [Int] {
        var out: [Int] = []
        for word in words.indices where words[word] != 0 {
            var bits = words[word]
            while bits != 0 {
                out.append(word << 6 | bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return out
    }
}

/// The churn's bookkeeping without the kernels: flow i is born, lives `lifetime` seconds
/// and is then deleted, in creation order, so the live flows are `low..<high`.
///
/// A flow too young to judge at a transition and absent from the new master is excused:
/// it is never judged lost later. It is still deleted at the end of its lifetime like any
/// other, because "absent at the check" does not mean "in no table". In a failback the
/// old master stays up and its messages still in flight reach the new master after the
/// check (the promotion's handover writes them into its kernel). A flow the churn
/// stopped deleting then lives on in the new master's table and its internal cache, is
/// replicated and recommitted at every failover, and never expires: the soak counted it
/// stale at every transition after (2026-12-04, a 30-minute soak: every stale flow but
/// 28 was one of these). The delete tells which it was: found (it arrived late) or not
/// (it did die with the old master).
struct ChurnLedger {
    /// Each flow's creation time; NaN when its creation failed (it is in no table).
    private var born: [Double]
    /// When each flow was deleted, for a stale flow's age.
    private var deletedAt: [Double]
    /// Excused from judgement (young and absent at a check); still deleted.
    private var excused: [Bool]
    private(set) var low = 0, high = 0
    let lifetime: Double

    init(capacity: Int, lifetime: Double) {
        born = [Double](repeating: .nan, count: capacity)
        deletedAt = born
        excused = [Bool](repeating: false, count: capacity)
        self.lifetime = lifetime
    }

    var capacity: Int { born.count }
    var live: Int { high - low }
    var room: Int { capacity - live }

    /// `n` flows created at `now`: their numbers.
    mutating func create(_ n: Int, at now: Double) -> Range<Int> {
        let first = high
        for i in first..<first + n {
            born[i % capacity] = now
            deletedAt[i % capacity] = .nan
            excused[i % capacity] = false
        }
        high += n
        return first..<high
    }

    /// The kernel refused flow `i`: nothing to delete, nothing to judge.
    mutating func creationFailed(_ i: Int) { born[i % capacity] = .nan }

    func isExcused(_ i: Int) -> Bool { excused[i % capacity] }

    /// The flows whose lifetime is over at `now`, oldest first, at most `most`; each is
    /// recorded as deleted at `now`. Excused flows are among them.
    mutating func due(now: Double, most: Int) -> [Int] {
        var doomed: [Int] = []
        while low < high && doomed.count < most {
            let b = born[low % capacity]
            if b.isNaN { low += 1; continue }
            guard b <= now - lifetime else { break }
            doomed.append(low)
            deletedAt[low % capacity] = now
            low += 1
        }
        return doomed
    }

    /// The loss check against a table that holds `present` (and `churnFlows` churn flows
    /// in all): of the live flows created at least `minAge` before `pausedAt`, how many
    /// are missing; the younger ones missing are excused from then on.
    mutating func judge(present: ChurnPresence, churnFlows: Int, kernelFlows: Int, pausedAt: Double, minAge: Double) -> LossCheck {
        var check = LossCheck(live: live, kernelFlows: kernelFlows, kernelChurnFlows: churnFlows)
        var presentLive = 0
        for i in low..<high {
            let slot = i % capacity
            let b = born[slot]
            guard !b.isNaN else { continue }
            let k = i & (ChurnFlows.space - 1)
            let there = present.contains(k)
            if there { presentLive += 1 }
            if excused[slot] { continue }
            guard b <= pausedAt - minAge else {
                if !there {
                    excused[slot] = true
                    check.diedYoung += 1
                }
                continue
            }
            check.atRisk += 1
            if !there {
                check.lost += 1
                if check.examples.count < 5 {
                    check.examples.append("\(i) (\(ChurnFlows.flow(i, timeout: 0).original!.source):\(1024 + (k & 0x3fff)), age \(Int(((pausedAt - b) * 1000).rounded())) ms)")
                }
            }
        }
        check.stale = churnFlows - presentLive
        // Each stale flow by how long before the pause its last incarnation was deleted.
        if check.stale > 0 {
            let mask = ChurnFlows.space - 1
            for k in present.keys where high > 0 {
                let newest = high - 1 - ((high - 1 - k) & mask)
                guard newest < low else { continue } // live
                let deleted = newest >= max(0, high - capacity) ? deletedAt[newest % capacity] : .nan
                check.staleByAge[LossCheck.ageBucket(deleted.isNaN ? nil : pausedAt - deleted), default: 0] += 1
            }
        }
        return check
    }
}
