/// One failover phase: from the action to the end of its observation.
struct Phase: Sendable {
    let name: String
    let action: Double
    let end: Double
}

/// How one session fared in one phase.
struct SessionVerdict: Sendable {
    let name: String
    let kind: SessionKind
    /// Longest gap between consecutive messages around the action (open at the end if
    /// the session went silent).
    let stall: Double
    /// When that longest gap began (the message before it); it ends `stall` later.
    let stallStart: Double
    /// UDP and ICMP only: messages sent in the phase that never arrived.
    let lost: Int?
    let received: Int
    let resetSeen: Bool
    /// nil when the session survived.
    let broken: String?
    var survived: Bool { broken == nil }

    /// A session survives a phase if it received data in the phase's last second and saw
    /// no error up to its end.
    init(_ r: SessionRecord, in phase: Phase) {
        name = r.name
        kind = r.kind
        let windowStart = phase.action - 1
        let inWindow = r.arrivals.filter { $0 >= windowStart && $0 <= phase.end }
        var previous = r.arrivals.last { $0 < windowStart } ?? min(windowStart, inWindow.first ?? windowStart)
        var longest = 0.0
        var longestFrom = previous
        for t in inWindow + [phase.end] {
            if t - previous > longest {
                longest = t - previous
                longestFrom = previous
            }
            previous = t
        }
        stall = longest
        stallStart = longestFrom
        received = r.arrivals.filter { $0 >= phase.action && $0 <= phase.end }.count
        switch r.kind {
        case .tcp:
            lost = nil
        case .udp, .icmp:
            // Margin at the end: a message sent just before the end may still be in flight.
            let counted = r.sent.indices.filter { r.sent[$0] >= phase.action - 0.5 && r.sent[$0] <= phase.end - 0.5 }
            let key = { (i: Int) in r.kind == .icmp ? i & 0xffff : i }
            lost = counted.filter { !r.received.contains(key($0)) }.count
        }
        let failedInTime = r.failedAt.map { $0 <= phase.end } ?? false
        resetSeen = (r.serverResetAt.map { $0 <= phase.end } ?? false) || (r.failure == .rst && failedInTime)
        if failedInTime, let f = r.failure {
            broken = f.rawValue
        } else if !r.arrivals.contains(where: { $0 > phase.end - 1 && $0 <= phase.end }) {
            broken = r.serverResetAt != nil ? "silent, server got RST" : "silent"
        } else {
            broken = nil
        }
    }
}
