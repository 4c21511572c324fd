import LinkIO
import StateSync

/// Everything `/metrics` shows, copied by the loop between two turns (`MetricsFeed`).
/// Its figures are those `tandem status --json` shows (the same `StatusDocument`, built
/// the same way), plus what a time series needs and a document does not: per-link
/// counters that never jump when the active link changes, messages by kind, and every
/// promotion rather than the last.
public struct MetricsSnapshot: Sendable {
    var process: ProcessFigures
    /// `tandem conntrackd` and `tandem run`.
    var replication: ReplicationFigures?
    /// `tandem keepalived` and `tandem run`.
    var vrrp: VRRPFigures?
}

struct ProcessFigures: Sendable {
    var footprint: ProcessFootprint
    /// Seconds since the epoch at start-up (Prometheus's `process_start_time_seconds`).
    var startTimeSeconds: Double
    /// User and system CPU of every thread of the process, the HTTP server's included.
    var cpuSeconds: Double
}

struct ReplicationFigures: Sendable {
    var document: StatusDocument
    var links: [LinkFigures]
    var messages: SyncMessageTally
    var promotions: PromotionTally
    /// FTFW: the lag samples, for the histogram (nil in the modes that take none).
    var lagSamples: PromotionTally.Observations? = nil
}

/// One dedicated link's own counters. The status document shows only the active link's
/// (as `conntrackd -s link` does), which would make a counter jump when the link changes.
struct LinkFigures: Sendable {
    /// The `link` label: the config keyword and interface, e.g. `UDP:eth1`.
    var name: String
    var active: Bool
    var counters: ChannelCounters
    /// What the hardened link refused of what arrived on this link.
    var refusals = SyncRefusals()
    /// `--sync-key`: frames refused on this link; nil without a key.
    var authenticationRefused: SyncAuthenticator.Counters?
}

struct VRRPFigures: Sendable {
    var document: StatusDocument.VRRP
    /// Per instance name: what the document sums up or leaves out.
    var instances: [String: InstanceFigures]

    struct InstanceFigures: Sendable {
        /// keepalived's numbers for its states (its JSON dump's `state`).
        var stateCode: Int
        var advertsSent: Int
        /// Refused adverts by reason (`ReceiveFilter.Rejection`).
        var rejected: [String: Int]
        /// Entries into each state since start, by state name.
        var transitions: [String: Int]
    }
}
