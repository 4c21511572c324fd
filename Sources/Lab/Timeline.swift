/// One moment of a failover phase, in wall-clock seconds.
struct TimelineEvent: Sendable {
    var time: Double
    var text: String
    /// Which of the failover's landmarks this is, if any: the picture draws those as markers.
    var milestone: Milestone?

    init(time: Double, text: String, milestone: Milestone? = nil) {
        self.time = time
        self.text = text
        self.milestone = milestone
    }
}

/// The instants that say how a failover went, in the order they should happen.
enum Milestone: String, CaseIterable, Sendable {
    /// The lab acted: fw1 stopped, killed or unplugged (or brought back, for a failback).
    case action
    /// The new master held both VIPs, as the lab's watcher saw it.
    case vipMoved
    /// The replicated state reached the new master's kernel, from its log or notify trace.
    case commitDone
    /// The first message any session received after the VIP moved.
    case firstPacket
}

/// Reads what the new master's daemons did, from their own logs: when the replicated
/// state reached its kernel ("commit done") and when it added the VIPs.
struct TakeoverLog {
    let names: LabNames
    let flavor: FirewallFlavor
    let fw: Firewall
    let logPath: String

    func events(since: Double) -> (commitDone: Double?, events: [TimelineEvent]) {
        var out: [TimelineEvent] = []
        var commit: Double?
        if flavor.usesNotifyScript {
            let trace = (FileSystem.read(names.file(fw, "notify.log")) ?? "").split(separator: "\n").compactMap(NotifyTraceLine.init)
            for line in trace where line.started >= since {
                if line.isTransition {
                    out.append(TimelineEvent(time: line.started, text: "\(fw) notify script starts: primary-backup.sh \(line.arguments.split(separator: " ").dropFirst().first ?? "")"))
                } else if line.isCall("-c"), let end = line.finished {
                    if commit == nil { commit = end }
                    let took = Int(((end - line.started) * 1000).rounded())
                    out.append(TimelineEvent(time: end, text: "commit done on \(fw): conntrackd -c returned rc=\(line.rc ?? -1) (took \(took) ms)",
                                             milestone: .commitDone))
                }
            }
        } else {
            for (t, text) in LogTimestamp.lines(FileSystem.read(logPath) ?? "", since: since) {
                // The contract line: "committed N flows" (the sync layer's own "Committed N new entries" is a detail).
                if text.contains("committed") && text.contains(" flows") {
                    if commit == nil { commit = t }
                    out.append(TimelineEvent(time: t, text: "commit done on \(fw): \(Self.message(text))", milestone: .commitDone))
                } else if text.contains("addresses added") {
                    out.append(TimelineEvent(time: t, text: "\(fw): \(Self.message(text))"))
                }
            }
        }
        return (commit, out)
    }

    /// The log line without its `tandem[pid]: ` tag.
    private static func message(_ text: Substring) -> String {
        guard let close = text.firstIndex(of: "]"), text[close...].hasPrefix("]: "),
              text[..<close].contains("[") else { return String(text) }
        return String(text[text.index(close, offsetBy: 3)...])
    }
}
