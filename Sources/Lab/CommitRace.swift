/// The seed's own race, told apart from a replication failure. keepalived adds the VIPs and
/// only then runs the notify script whose `conntrackd -c` puts the replicated flows into the
/// kernel. A packet that crosses the new master in between finds no state: a TCP session's
/// server is reset by the firewall's own stack (the packet is addressed to the SNAT VIP), and
/// a UDP flow is re-created without its NAT mapping, after which the commit cannot replace it.
/// The loss is then the script's ordering, whatever daemon commits; `tandem run` commits first.
struct CommitRace: Sendable, Equatable {
    let vipMoved: Double
    let commitDone: Double
    /// Broken sessions whose traffic crossed the new master between the two instants.
    let caught: [String]
    /// Broken sessions with no traffic in that window: the race does not explain them.
    let unexplained: [String]

    /// nil when there was no window (the commit finished before the VIPs moved, or is
    /// unknown) or no broken session crossed it.
    static func find(records: [SessionRecord], verdicts: [SessionVerdict], vipMoved: Double?, commitDone: Double?) -> CommitRace? {
        guard let vipMoved, let commitDone, commitDone > vipMoved else { return nil }
        let window = vipMoved...commitDone
        var caught: [String] = []
        var unexplained: [String] = []
        for (r, v) in zip(records, verdicts) where !v.survived {
            let crossed: Bool
            switch r.kind {
            case .tcp:
                // The reset is the trace the stateless packet leaves; one after the commit is
                // something else. It is placed between the engine's turn before it and the
                // turn that noticed it: a loaded machine that starved the engine past the
                // commit would otherwise date a reset from inside the window after it.
                func overlaps(_ after: Double?, _ at: Double?) -> Bool {
                    guard let at else { return false }
                    return (after ?? at) <= window.upperBound && at >= window.lowerBound
                }
                crossed = overlaps(r.serverResetAfter, r.serverResetAt)
                    || (r.serverResetAt == nil && r.failure == .rst && overlaps(r.failedAfter, r.failedAt))
            case .udp, .icmp:
                crossed = r.sent.contains(where: window.contains)
            }
            if crossed { caught.append(r.name) } else { unexplained.append(r.name) }
        }
        guard !caught.isEmpty else { return nil }
        return CommitRace(vipMoved: vipMoved, commitDone: commitDone, caught: caught, unexplained: unexplained)
    }

    /// One line for the report; "seed race:" starts it so that callers can find it.
    func line(newMaster: Firewall) -> String {
        let gap = Int(((commitDone - vipMoved) * 1000).rounded())
        var text = "seed race: \(newMaster)'s commit finished \(gap) ms after it took the VIPs, and "
            + caught.joined(separator: ", ") + " crossed \(newMaster) in between"
            + " (the notify script commits only after keepalived added the VIPs)"
        if !unexplained.isEmpty { text += "; not explained by the race: " + unexplained.joined(separator: ", ") }
        return text
    }
}
