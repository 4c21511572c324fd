/// The outcome of one `tandem lab failover`: the timeline and session table of each phase,
/// the final verdict line, and the raw data as JSON.
struct FailoverReport {
    let settings: LabSettings
    let options: FailoverOptions
    let phases: [Phase]
    let actions: [String]
    let notes: [String]
    let records: [SessionRecord]
    let vipHistory: [VIPWatcher.Change]
    /// The daemon log of the firewall that takes over in each phase.
    let takeovers: [TakeoverLog]
    /// Measured by the lab itself (the replicated load reaching the new master's kernel).
    var extraEvents: [TimelineEvent] = []

    var verdicts: [[SessionVerdict]] { phases.map { p in records.map { SessionVerdict($0, in: p) } } }

    /// Names of sessions that broke in some phase, with the first reason.
    var broken: [(name: String, reason: String)] {
        records.indices.compactMap { i in
            for phase in verdicts { if let b = phase[i].broken { return (records[i].name, b) } }
            return nil
        }
    }

    var allSurvived: Bool { broken.isEmpty }

    var context: String {
        var parts = ["stack \(settings.stack.rawValue)", "failover \(options.how.rawValue)"]
        if options.failback { parts.append("with failback") }
        if !settings.sync { parts.append("replication off") }
        return parts.joined(separator: ", ")
    }

    func lines() -> [String] {
        var out: [String] = []
        let all = verdicts
        for (i, phase) in phases.enumerated() {
            out.append("")
            out.append("== \(phase.name): \(actions[i])")
            out.append("timeline (ms after the action):")
            for e in timeline(i) {
                out.append("  \(padded(formatRelativeMilliseconds(e.time - phase.action), 7, right: true))  \(e.text)")
            }
            out.append("  " + padded("session", 12) + padded("kind", 6) + padded("stall ms", 10, right: true)
                       + padded("lost", 6, right: true) + padded("RST", 5, right: true) + "  result")
            for v in all[i] {
                let lost = v.lost.map(String.init) ?? "-"
                let result = v.broken.map { "broken (\($0))" } ?? "survived"
                out.append("  " + padded(v.name, 12) + padded(v.kind.rawValue, 6)
                           + padded(String(Int((v.stall * 1000).rounded())), 10, right: true)
                           + padded(lost, 6, right: true) + padded(v.resetSeen ? "yes" : "no", 5, right: true) + "  " + result)
            }
            let ok = all[i].filter(\.survived).count
            out.append("\(phase.name): \(ok)/\(all[i].count) sessions survived")
            if let race = commitRace(i) { out.append(race.line(newMaster: i == 0 ? .fw2 : .fw1)) }
        }
        out.append("")
        out.append("note: ICMP echo survives even without sync (each request may create a new flow), so its row measures the stall only")
        if !settings.sync { out.append("note: replication was off (--no-sync): the sync link was down on both firewalls") }
        for n in notes { out.append("note: " + n) }
        out.append(verdictLine)
        return out
    }

    var verdictLine: String {
        let b = broken
        if b.isEmpty { return "verdict: \(records.count)/\(records.count) sessions survived (\(context))" }
        let list = b.map { "\($0.name) (\($0.reason))" }.joined(separator: ", ")
        return "verdict: \(b.count)/\(records.count) sessions broke (\(context)): \(list)"
    }

    /// The run as the picture sees it: the same timelines, verdicts and records the report prints.
    var recordedRun: RecordedRun {
        RecordedRun(title: "tandem lab failover: " + context, verdict: verdictLine, survived: allSurvived,
                    phases: phases.indices.map { i in
                        RecordedPhase(phase: phases[i], action: actions[i], actionLabel: actionLabel(i), events: timeline(i))
                    },
                    sessions: records)
    }

    /// The action in a few words, for its marker.
    private func actionLabel(_ i: Int) -> String {
        guard i == 0 else { return "fw1 back" }
        switch options.how {
        case .stop: return "fw1 stopped"
        case .kill: return "fw1 killed"
        case .link: return "fw1 unplugged"
        }
    }

    /// Events of phase `i`, in time order.
    func timeline(_ i: Int) -> [TimelineEvent] {
        let phase = phases[i]
        let newMaster: Firewall = i == 0 ? .fw2 : .fw1
        var events = [TimelineEvent(time: phase.action, text: actions[i], milestone: .action)]
        let old = newMaster.peer
        if let t = firstChange(old, since: phase.action, end: phase.end, where: { $0.none }) {
            events.append(TimelineEvent(time: t, text: "\(old) released both VIPs"))
        }
        let moved = movedTime(i)
        if let moved {
            events.append(TimelineEvent(time: moved, text: "VIP moved: \(newMaster) holds \(SeedAddressing.lanVIP) and \(SeedAddressing.wanVIP)",
                                        milestone: .vipMoved))
        } else {
            events.append(TimelineEvent(time: phase.end, text: "VIP did not move to \(newMaster) before the end of the observation"))
        }
        if i < takeovers.count {
            let (commit, log) = takeovers[i].events(since: phase.action)
            events += log.filter { $0.time <= phase.end }
            if commit == nil { events.append(TimelineEvent(time: phase.end, text: "no commit seen in \(newMaster)'s log")) }
        }
        if let moved, let first = records.compactMap({ r in r.arrivals.first { $0 > moved }.map { (r.name, $0) } }).min(by: { $0.1 < $1.1 }),
           first.1 <= phase.end {
            events.append(TimelineEvent(time: first.1, text: "first packet after VIP moved (\(first.0))", milestone: .firstPacket))
        }
        events += extraEvents.filter { $0.time >= phase.action && $0.time <= phase.end }
        for r in records {
            if let t = r.failedAt, t >= phase.action, t <= phase.end, let f = r.failure {
                events.append(TimelineEvent(time: t, text: "\(r.name) broke: \(f.rawValue)"))
            }
            if let t = r.serverResetAt, t >= phase.action, t <= phase.end {
                events.append(TimelineEvent(time: t, text: "\(r.name): the server got a TCP reset"))
            }
        }
        return events.sorted { $0.time < $1.time }
    }

    /// The seed's VIPs-before-commit race in phase `i`, if broken sessions crossed it.
    func commitRace(_ i: Int) -> CommitRace? {
        guard i < takeovers.count else { return nil }
        let commit = takeovers[i].events(since: phases[i].action).commitDone
        return CommitRace.find(records: records, verdicts: verdicts[i], vipMoved: raceStart(i), commitDone: commit)
    }

    /// The earliest the new master of phase `i` can have held a VIP: a reset its first VIP
    /// caused may come before the sample that saw both (one was logged 5 ms before it).
    private func raceStart(_ i: Int) -> Double? {
        guard let moved = movedTime(i) else { return nil }
        let phase = phases[i]
        let fw: Firewall = i == 0 ? .fw2 : .fw1
        let first = vipHistory.first { $0.fw == fw && $0.time >= phase.action && $0.time <= moved && !$0.holding.none }
        return first.map { max(phase.action, $0.notBefore) } ?? moved
    }

    private func movedTime(_ i: Int) -> Double? {
        let phase = phases[i]
        let fw: Firewall = i == 0 ? .fw2 : .fw1
        var now: [Firewall: VIPHolding] = [:]
        for c in vipHistory {
            now[c.fw] = c.holding
            guard c.time >= phase.action, c.time <= phase.end, now[fw]?.both == true else { continue }
            if i == 0 || now[fw.peer]?.none == true { return c.time }
        }
        return nil
    }

    private func firstChange(_ fw: Firewall, since: Double, end: Double, where match: (VIPHolding) -> Bool) -> Double? {
        vipHistory.first { $0.fw == fw && $0.time >= since && $0.time <= end && match($0.holding) }?.time
    }

    // MARK: JSON

    func json() -> String {
        let origin = phases.first?.action ?? 0
        func ms(_ t: Double) -> String { String(Double(Int(((t - origin) * 10000).rounded())) / 10) }
        func str(_ s: String) -> String { JSONObject.string(s) }
        func list(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }
        let all = verdicts
        var phaseObjects: [String] = []
        for (i, p) in phases.enumerated() {
            let sessions = all[i].map { v in
                "{\"name\":\(str(v.name)),\"kind\":\(str(v.kind.rawValue)),\"stall_ms\":\(Int((v.stall * 1000).rounded())),"
                    + "\"lost\":\(v.lost.map(String.init) ?? "null"),\"received\":\(v.received),\"rst\":\(v.resetSeen),"
                    + "\"survived\":\(v.survived),\"broken\":\(v.broken.map(str) ?? "null")}"
            }
            let events = timeline(i).map { "{\"ms\":\(ms($0.time)),\"event\":\(str($0.text))}" }
            let race = commitRace(i).map { r in
                "{\"vip_moved_ms\":\(ms(r.vipMoved)),\"commit_done_ms\":\(ms(r.commitDone)),"
                    + "\"caught\":\(list(r.caught.map(str))),\"unexplained\":\(list(r.unexplained.map(str)))}"
            } ?? "null"
            phaseObjects.append("{\"name\":\(str(p.name)),\"action_ms\":\(ms(p.action)),\"end_ms\":\(ms(p.end)),"
                                + "\"action\":\(str(actions[i])),\"timeline\":\(list(events)),\"sessions\":\(list(sessions)),"
                                + "\"commit_race\":\(race)}")
        }
        let raw = records.map { r in
            "{\"name\":\(str(r.name)),\"kind\":\(str(r.kind.rawValue)),\"local_port\":\(r.localPort),"
                + "\"failure\":\(r.failure.map { str($0.rawValue) } ?? "null"),\"failed_ms\":\(r.failedAt.map(ms) ?? "null"),\"failed_after_ms\":\(r.failedAfter.map(ms) ?? "null"),"
                + "\"server_reset_ms\":\(r.serverResetAt.map(ms) ?? "null"),\"server_reset_after_ms\":\(r.serverResetAfter.map(ms) ?? "null"),"
                + "\"arrivals_ms\":\(list(r.arrivals.map(ms))),\"sent_ms\":\(list(r.sent.map(ms))),"
                + "\"received_seq\":\(list(r.received.sorted().map(String.init)))}"
        }
        let vips = vipHistory.map { "{\"ms\":\(ms($0.time)),\"fw\":\(str($0.fw.description)),\"lan\":\($0.holding.lan),\"wan\":\($0.holding.wan)}" }
        let b = broken
        return "{\"stack\":\(str(settings.stack.rawValue)),\"sync\":\(settings.sync),\"advert_int\":\(settings.advertInterval),"
            + "\"how\":\(str(options.how.rawValue)),\"failback\":\(options.failback),\"sessions\":\(options.sessions),"
            + "\"push_s\":\(options.push),\"post_s\":\(options.post),\"origin_epoch\":\(origin),"
            + "\"survived\":\(b.isEmpty),\"broken\":\(list(b.map { str($0.name) })),"
            + "\"notes\":\(list(notes.map(str))),\"phases\":\(list(phaseObjects)),\"vip_history\":\(list(vips)),\"raw\":\(list(raw))}\n"
    }
}
