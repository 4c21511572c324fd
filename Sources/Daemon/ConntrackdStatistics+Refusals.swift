import StateSync

extension ConntrackdStatistics {
    /// `-s network`'s last block, after conntrackd's layout: what the hardened sync link
    /// refused, one line per reason (docs/sync-hardening.md).
    var refusedBlock: String {
        var s = "refused (tandem):\n"
        for (reason, count) in refusals.byReason {
            let label = reason + ":"
            s += "\t\t\(label)\(String(repeating: "\t", count: max(1, 3 - label.count / 8)))\(Self.pad(count, 20))\n"
        }
        return s + "\n"
    }
}
