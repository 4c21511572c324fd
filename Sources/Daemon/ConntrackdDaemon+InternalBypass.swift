import Conntrack
import StateSync

/// DisableInternalCache (spec §5.3): events go to the peer as they come, `-i` shows the
/// kernel table itself, a bulk send dumps the kernel, and resyncs with the kernel do not
/// exist (`ControlPlan` decides the answers).
extension ConntrackdDaemon {
    var bypassesInternalCache: Bool { sync.disableInternalCache }

    func bypass(_ flow: Flow, kind: FlowPrinter.EventKind) {
        let id = state.internalBypass.add(flow, kind: kind, options: policy.options)
        engine.enqueue(.bypassed(id), places: &internalCache)
    }

    /// `-B` and the peer's resync request: every kernel entry that passes the filter, as NEW.
    func bulkSendFromKernel() {
        do {
            try dumpStashing(during: "the kernel table's dump for a bulk send") { tick in
                try kernel.dump { flow in
                    tick()
                    guard self.policy.filter.passes(flow) else { return }
                    self.bypass(flow, kind: .new)
                }
            }
        } catch {
            log("cannot dump the kernel table for a bulk send: \(error)")
        }
    }

    /// `-i` without a cache: the kernel table in conntrack(8)'s format (timeout and use
    /// count included, no "active since").
    func kernelListing(xml: Bool) throws -> String {
        var out = ""
        let plain = FlowPrinter()
        let tagged = FlowXMLPrinter()
        try dumpStashing(during: "the kernel table's listing") { tick in
            try kernel.dump { flow in
                tick()
                guard self.policy.filter.passes(flow) else { return }
                var f = flow
                f.countersOriginal = nil
                f.countersReply = nil
                out += (xml ? tagged.format(f) : plain.format(f)) + "\n"
            }
        }
        return out
    }
}
