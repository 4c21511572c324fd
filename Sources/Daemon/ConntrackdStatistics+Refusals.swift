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

extension ConntrackdStatistics {
    /// `-s network`'s block of refusals by the link they arrived on: every reason of the
    /// "refused" block, then (with a key) of the "authentication" block, per channel.
    var refusedByChannelBlock: String {
        var s = "refused by link (tandem):\n"
        for (i, c) in channels.enumerated() {
            s += "\t\(c.kind) device=\(c.interface.isEmpty ? "#\(i)" : c.interface):\n"
            for (reason, count) in c.refusals.byReason {
                let label = reason + ":"
                s += "\t\t\(label)\(String(repeating: "\t", count: max(1, 3 - label.count / 8)))\(Self.pad(count, 20))\n"
            }
            if let a = c.authenticationRefused {
                for r in StatusDocument.Authentication(a).reasons {
                    let label = "auth " + r.title.lowercased() + ":"
                    s += "\t\t\(label)\(String(repeating: "\t", count: max(1, 3 - label.count / 8)))\(Self.pad(r.count, 20))\n"
                }
            }
        }
        return s + "\n"
    }
}
