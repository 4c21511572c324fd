import ConfigParsing
import IPAddressing
import Timekeeping

/// The split-brain watch (`SplitBrainMonitor`) fed from both halves: a change is one log
/// line with both views, a count, the operator's `--notify-split-brain` script, and the status.
extension FailoverNode {
    /// The instances' shortest advert interval as configured and rounded (a VRRPv3 backup
    /// may later adopt its master's; both ends normally share advert_int).
    static func shortestAdvertInterval(_ keepalived: KeepalivedConfiguration) -> Duration? {
        keepalived.instances.map { KeepalivedDaemon.parameters($0, source: .v4(0)).interval }.min()
    }

    func watchSplitBrain(now: Instant) {
        guard now >= splitBrain.nextCheck else { return }
        splitBrain.nextCheck = now + splitBrain.timing.checkPeriod
        let liveness = replication.link.liveness
        // A peer heard over the peer view is Tandem and sends at this node's pace; any
        // other may be conntrackd, heard once a second.
        let tandemPeer = peerView.map { $0.freshView(now: now) != nil } ?? false
        let sync = SplitBrainMonitor.SyncView(peer: replication.link.peerAddress, lastHeard: liveness.everHeard ? liveness.lastHeard : nil,
                                              peerInterval: tandemPeer ? splitBrain.timing.aliveInterval : SplitBrainTiming.conntrackdAliveInterval,
                                              lastHello: replication.link.lastHello)
        for r in splitBrain.monitor.evaluate(instanceViews(now: now), sync: sync, now: now) {
            log((r.began ? "SPLIT BRAIN suspected (\(r.instance)): " : "split brain over (\(r.instance)): ") + r.detail)
            if let script = options.notifySplitBrain {
                vrrp.spawn(ScriptCommand.argv(script) + [r.kind.rawValue, r.instance, r.began ? "begin" : "end"], as: nil)
            }
        }
    }

    func splitBrainStatus(now: Instant) -> String {
        let m = splitBrain.monitor
        var lines: [String] = []
        for (key, a) in m.active.sorted(by: { $0.value.since < $1.value.since }) {
            lines.append("  SPLIT BRAIN suspected (\(key.instance)) for \((now - a.since).wholeSeconds)s: \(a.detail)")
        }
        let counts = SplitBrainMonitor.Kind.allCases.map { "\(SplitBrainMonitor.title($0)) \(m.reports[$0] ?? 0)" }
        lines.append("  split-brain reports: " + counts.joined(separator: ", "))
        return lines.joined(separator: "\n") + "\n"
    }

    func splitBrainDocument(now: Instant) -> StatusDocument.SplitBrain {
        let m = splitBrain.monitor
        let active = m.active.sorted { ($0.value.since, $0.key.instance) < ($1.value.since, $1.key.instance) }.map { key, a in
            StatusDocument.SplitBrain.Disagreement(kind: key.kind.rawValue, instance: key.instance,
                                                   sinceMs: PromotionRecord.milliseconds(now - a.since), detail: a.detail)
        }
        let reports = Dictionary(uniqueKeysWithValues: SplitBrainMonitor.Kind.allCases.map { ($0.rawValue, m.reports[$0] ?? 0) })
        return StatusDocument.SplitBrain(active: active, reports: reports, peerView: peerViewDocument(now: now))
    }
}

/// The watch and when it next looks.
struct SplitBrainWatch {
    var monitor = SplitBrainMonitor()
    var nextCheck = Instant.zero
    var timing = SplitBrainTiming(advertInterval: nil)
}
