import StateSync
import Timekeeping

/// The log lines about refused sync frames: the first unauthenticated one at once (the
/// usual cause is a conntrackd peer, or a Tandem without the key, and the operator must
/// learn it from one line), the rest as a summary at most every `interval`: a flood of
/// forgeries must not flood the log too.
struct SyncAuthenticationLog {
    static let interval = Duration.seconds(10)
    private var reported = SyncAuthenticator.Counters()
    private var nextSummary = Instant.zero
    private var warnedUnauthenticated = false

    mutating func lines(_ c: SyncAuthenticator.Counters, peer: String, now: Instant) -> [String] {
        guard c.refused != reported.refused || c.epochChanges != reported.epochChanges else { return [] }
        var out: [String] = []
        if c.epochChanges > reported.epochChanges {
            out.append("sync peer \(peer) restarted (new authentication epoch)")
        }
        if !warnedUnauthenticated && c.notAuthenticated > 0 {
            warnedUnauthenticated = true
            nextSummary = now + Self.interval
            out.append("sync peer \(peer) sends unauthenticated messages (a conntrackd peer cannot pair with an authenticating Tandem); refusing them")
            reported = c
            return out
        }
        guard c.refused != reported.refused, now >= nextSummary else {
            reported.epochChanges = c.epochChanges
            return out
        }
        nextSummary = now + Self.interval
        let parts = [("unauthenticated", c.notAuthenticated - reported.notAuthenticated),
                     ("malformed", c.malformed - reported.malformed),
                     ("unknown version", c.unknownVersion - reported.unknownVersion),
                     ("unknown key", c.unknownKey - reported.unknownKey),
                     ("bad tag", c.badTag - reported.badTag),
                     ("replayed", c.replay - reported.replay)].filter { $0.1 > 0 }
        out.append("refused \(c.refused - reported.refused) sync message(s) claiming to be from \(peer): "
                   + parts.map { "\($0.1) \($0.0)" }.joined(separator: ", "))
        reported = c
        return out
    }
}
