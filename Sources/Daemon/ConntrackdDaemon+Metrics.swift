import Timekeeping

/// The replication side of a metrics snapshot: the status document the JSON status
/// would show now (one source of truth), and the figures a time series needs besides.
extension ConntrackdDaemon {
    func replicationFigures(now: Instant) -> ReplicationFigures {
        let links = link.channels.channels.enumerated().map { index, c in
            let refused = refusals(onChannel: index)
            return LinkFigures(name: "\(c.kind.rawValue):\(c.interface ?? "#\(index)")", active: index == link.channels.current,
                               counters: c.counters, refusals: refused.hardening, authenticationRefused: refused.authentication)
        }
        return ReplicationFigures(document: statusDocument(now: now, listing: false), links: links, messages: messageTally,
                                  promotions: promotionTally, lagSamples: engine.isFTFW ? state.replicationLag.samples : nil)
    }
}
