import StateSync

/// The authentication counters as `-s network`, `tandem status --json` (`sync.authentication`)
/// and `/metrics` show them: one source, so the three cannot disagree.
extension StatusDocument {
    struct Authentication: Encodable, Sendable, Equatable {
        struct Refused: Encodable, Sendable, Equatable {
            var notAuthenticated: Int
            var malformed: Int
            var unknownVersion: Int
            var unknownKey: Int
            var badTag: Int
            var replay: Int
        }
        /// Datagrams or TCP frames sealed and sent.
        var sealed: Int
        /// Frames that passed every check.
        var accepted: Int
        var refused: Refused
        /// Times the peer's epoch moved forward (its restarts).
        var epochChanges: Int

        init(_ c: SyncAuthenticator.Counters) {
            sealed = c.sealed
            accepted = c.accepted
            refused = Refused(notAuthenticated: c.notAuthenticated, malformed: c.malformed, unknownVersion: c.unknownVersion,
                              unknownKey: c.unknownKey, badTag: c.badTag, replay: c.replay)
            epochChanges = c.epochChanges
        }

        /// Refusal reasons with their metric label, in the order every view lists them.
        var reasons: [(label: String, title: String, count: Int)] {
            [("not_authenticated", "Not authenticated", refused.notAuthenticated),
             ("malformed", "Malformed envelope", refused.malformed),
             ("unknown_version", "Unknown version", refused.unknownVersion),
             ("unknown_key", "Unknown key", refused.unknownKey),
             ("bad_tag", "Bad tag", refused.badTag),
             ("replay", "Replayed", refused.replay)]
        }
    }
}

extension ConntrackdStatistics {
    /// Tandem's block of `-s network` when the link is authenticated.
    func authenticationBlock(_ c: SyncAuthenticator.Counters) -> String {
        let a = StatusDocument.Authentication(c)
        var s = "authentication (tandem):\n"
        s += "\t\tSealed:\t\t\t\(Self.pad(a.sealed, 20))\n"
        s += "\t\tAccepted:\t\t\(Self.pad(a.accepted, 20))\n"
        for r in a.reasons {
            s += "\t\t\(r.title):" + (r.title.count < 15 ? "\t\t" : "\t") + "\(Self.pad(r.count, 20))\n"
        }
        s += "\t\tPeer restarts:\t\t\(Self.pad(a.epochChanges, 20))\n\n"
        return s
    }
}

extension MetricsPublisher {
    func publishAuthentication(_ a: StatusDocument.Authentication) {
        for r in a.reasons { counter("tandem_sync_auth_refused_total", [("reason", r.label)], r.count) }
        counter("tandem_sync_auth_frames_total", [("outcome", "sealed")], a.sealed)
        counter("tandem_sync_auth_frames_total", [("outcome", "accepted")], a.accepted)
        counter("tandem_sync_auth_peer_epochs_total", a.epochChanges)
    }
}
