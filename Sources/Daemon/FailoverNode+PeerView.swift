import ConfigParsing
import StateSync
import Timekeeping
import VRRP

/// `--peer-view PORT` in the node's loop: its own instances sent to the peer, the peer's
/// read, and the split-brain watch given the peer's word for each instance.
extension FailoverNode {
    func servicePeerView(now: Instant) {
        guard let link = peerView else { return }
        link.receive(now: now)
        let priorities = vrrp.priorities
        let own = vrrp.states.sorted { $0.key < $1.key }.map { name, state in
            PeerView.Instance(name: name, state: Self.wireState(state), priority: priorities[name] ?? 0)
        }
        link.sendIfDue(own, now: now)
    }

    /// SIGHUP's new sync keys: the sync link's and the peer view's together, so the view
    /// keeps reaching a peer that rotated.
    public func replaceSyncKeys(_ keys: SyncKeys) {
        replication.replaceSyncKeys(keys)
        if peerView?.authenticator != nil { peerView?.authenticator?.replaceKeys(keys) }
    }

    /// Why `--peer-view` cannot run with this Sync section (no UDP link), or nil.
    public static func peerViewProblem(_ sync: ConntrackdConfiguration.Sync) -> String? {
        if case .failure(let e) = PeerViewLink.endpoints(sync) { return "\(e)" }
        return nil
    }

    static func wireState(_ s: InstanceMachine.State) -> PeerView.State {
        switch s {
        case .initial: .initial
        case .backup: .backup
        case .master: .master
        case .fault: .fault
        case .stopped: .stopped
        }
    }

    /// The VRRP half's views, each with what the peer's fresh view says of the same name.
    func instanceViews(now: Instant) -> [SplitBrainMonitor.InstanceView] {
        var views = vrrp.splitBrainViews
        guard let link = peerView, let view = link.freshView(now: now), let at = link.lastHeard else { return views }
        for k in views.indices {
            if let theirs = view.instances.first(where: { $0.name == views[k].name }) {
                views[k].peerView = .init(state: theirs.state.name, at: at)
            }
        }
        return views
    }

    /// The status's `splitBrain.peerView`: null without the flag.
    func peerViewDocument(now: Instant) -> StatusDocument.PeerViewStatus? {
        guard let link = peerView else { return nil }
        var refused = Dictionary(uniqueKeysWithValues: PeerViewError.reasons.map { ($0, 0) })
        for (k, v) in link.refused { refused[k] = v }
        return StatusDocument.PeerViewStatus(
            port: Int(link.port), lastHeardMs: link.lastHeard.map { PromotionRecord.milliseconds(now - $0) },
            instances: (link.freshView(now: now)?.instances ?? []).map { .init(name: $0.name, state: $0.state.name, priority: Int($0.priority)) },
            refused: refused)
    }
}
