#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import StateSync

/// `tandem status --json`: the node's state as one document whose shape is a promise
/// (docs/status.md, docs/status.schema.json). Field names change only with the schema's
/// version; a new version is a new `schema` string, so a reader can refuse what it does
/// not understand instead of misreading it.
struct StatusDocument: Encodable, Sendable {
    /// /2 added `tandem keepalived`'s document (mode "keepalived", replication sections
    /// null); a conntrackd or run document of /2 has /1's keys and meanings unchanged.
    static let schemaVersion = "tandem-status/2"

    enum Mode: String, Encodable, Sendable { case conntrackd, run, keepalived }

    let schema = StatusDocument.schemaVersion
    var mode: Mode
    var process: ProcessFootprint
    var sync: Sync
    var kernel: Kernel
    var control: Control
    var caches: Caches
    @Nullable var lastPromotion: PromotionRecord.Document?
    var pendingCommit: PendingCommitView
    var handover: PromotionHandover.Counters
    /// Errors the loop survived, by kind; every kind is present, 0 when none.
    var errorsRecovered: [String: Int]
    /// Only `tandem run` has a VRRP half.
    @Nullable var vrrp: VRRP?
    /// Only `tandem run` sees both halves: what they disagree on (`SplitBrainMonitor`).
    @Nullable var splitBrain: SplitBrain? = nil

    struct SplitBrain: Encodable, Sendable {
        struct Disagreement: Encodable, Sendable {
            var kind: String
            var instance: String
            var sinceMs: Int
            var detail: String
        }
        /// What holds now.
        var active: [Disagreement]
        /// How often each began, by kind (every kind present).
        var reports: [String: Int]
        /// `--peer-view`: what the peer says of its instances; null without the flag.
        @Nullable var peerView: PeerViewStatus? = nil
    }

    struct PeerViewStatus: Encodable, Sendable {
        var port: Int
        /// nil until a view has been heard.
        @Nullable var lastHeardMs: Int?
        /// The peer's instances while its view is fresh (empty otherwise).
        var instances: [PeerInstance]
        /// Refused datagrams by reason (every reason present).
        var refused: [String: Int]

        struct PeerInstance: Encodable, Sendable {
            var name: String
            var state: String
            var priority: Int
        }
    }

    struct Sync: Encodable, Sendable {
        var mode: String
        var peer: Peer
        var resync: Resync
        var link: Link
        var channels: [Channel]
        var queues: Queues
        var messages: Messages
        var receive: Receive
        var gapRepair: GapRepair.Counters
        /// FTFW only: how far behind the peer is (`ReplicationLag`).
        @Nullable var replicationLag: Lag?
        /// What the hardened link refused, by reason (docs/sync-hardening.md).
        var refusals: SyncRefusals
        /// `--sync-key`: null when the link is not authenticated.
        @Nullable var authentication: Authentication? = nil
    }

    struct Lag: Encodable, Sendable {
        /// Samples since the start.
        var samples: UInt64
        @Nullable var lastMs: Double?
        @Nullable var lastAgeMs: Int?
        /// The last two minutes at most; null with no sample in them.
        @Nullable var recent: Figures?
        /// Followed flows whose ACK never came (peer restarted, queue overflow).
        var probesUnanswered: Int

        struct Figures: Encodable, Sendable {
            var samples: UInt64
            var medianMs: Double
            var p99Ms: Double
            var maxMs: Double
        }
    }

    struct Peer: Encodable, Sendable {
        var address: String
        var silent: Bool
        /// nil until the peer has been heard once: a start-up time would pass for a message.
        @Nullable var lastHeardMs: Int?
    }

    struct Resync: Encodable, Sendable {
        enum Phase: String, Encodable, Sendable { case notRequested, waiting, complete }
        var phase: Phase
        /// Waiting: how long since the first request; complete: how long since it completed.
        @Nullable var sinceMs: Int?
        /// FTFW only, and only while waiting: the peer acknowledged the request.
        @Nullable var acknowledged: Bool?
        /// Gap repair holds gaps that a resync request will cover.
        var gapResyncPending: Bool
    }

    /// The link messages currently leave on, as the text status sums it up.
    struct Link: Encodable, Sendable {
        var kind: String
        @Nullable var interface: String?
        var channelsConfigured: Int
        var packetsSent: Int
        var packetsReceived: Int
        var sendErrors: Int
        var droppedSendBufferFull: Int
        var deferredSendBufferFull: Int
        var readWhileBusy: Int
        var readBudgetReached: Int
    }

    /// One configured channel, as `conntrackd -s link` shows it.
    struct Channel: Encodable, Sendable {
        var kind: String
        var interface: String
        var status: String
        var active: Bool
        var bytesSent: Int, bytesReceived: Int
        var packetsSent: Int, packetsReceived: Int
        var sendErrors: Int, receiveErrors: Int
        /// What the hardened link refused of what arrived on this channel, by reason.
        var refusals: SyncRefusals
        /// `--sync-key`: the frames refused on this channel; null without a key.
        @Nullable var authenticationRefused: Authentication.Refused? = nil
    }

    struct Queues: Encodable, Sendable {
        var transmit: Int
        /// FTFW's resend queue; nil in the modes that have none.
        @Nullable var resend: Int?
        @Nullable var resendLimit: Int?
        @Nullable var resendOverflows: Int?
        var errorQueueLimit: Int
    }

    struct Messages: Encodable, Sendable {
        var retransmitted: Int
        var lost: Int
        var before: Int
        var malformed: Int
        var notFromPeer: Int
    }

    /// Why received messages were refused (`conntrackd -s network`).
    struct Receive: Encodable, Sendable {
        var truncated: Int
        var badSize: Int
        var wrongVersion: Int
        var malformedHeader: Int
        var malformedPayload: Int
        var badType: Int
        /// Refused by the sync mode rather than the receiver.
        var modeMalformed: Int
    }

    /// The kernel side: events, polls, overruns, flushes (`conntrackd -s runtime`).
    struct Kernel: Encodable, Sendable {
        @Nullable var pollSeconds: Int?
        var readsEvents: Bool
        var polls: Int
        var eventsReceived: Int
        var eventsFiltered: Int
        var eventsUnknown: Int
        var catchEventFailed: Int
        var dumpUnknown: Int
        var overruns: Int
        var flushes: Int
        var resyncs: Int
        var receiveBufferBytes: Int
        var eventRingBytes: Int
        var eventRingSpills: UInt64
        var trafficBytes: UInt64
        var trafficPackets: UInt64
    }

    struct Control: Encodable, Sendable {
        var localReadFailed: Int
        var localUnknownRequest: Int
    }

    struct Caches: Encodable, Sendable {
        var `internal`: Cache
        var external: Cache
        /// InternalCache Off: events go to the peer without being cached.
        var internalBypass: Bool
        /// DisableExternalCache: replicated flows go straight into the kernel.
        var externalInject: Bool
        /// nil without ExpectationSync.
        @Nullable var expectations: ExpectationCaches?
    }

    struct ExpectationCaches: Encodable, Sendable {
        var `internal`: Cache
        var external: Cache
    }

    struct Cache: Encodable, Sendable {
        /// Live entries; nil for an external cache that is not kept (DisableExternalCache).
        @Nullable var flows: Int?
        /// Entries held, the dead ones waiting for the peer's ACK included.
        var objects: Int
        var counters: Counters
    }

    struct Counters: Encodable, Sendable {
        var created: Int, createFailed: Int
        var updated: Int, updateFailed: Int
        var destroyed: Int, destroyFailed: Int
    }

    struct PendingCommitView: Encodable, Sendable {
        var waiting: Int
        var committedLater: Int
        var expiredWaiting: Int
    }

    struct VRRP: Encodable, Sendable {
        /// Points every instance is lowered by while the peer's table has not arrived.
        var syncDemotion: Int
        /// What the VRRP side could not do to the host, by action.
        var hostActionFailures: [String: Int]
        var instances: [Instance]
    }

    struct Instance: Encodable, Sendable {
        var name: String
        var state: String
        @Nullable var interface: String?
        @Nullable var syncGroup: String?
        /// The configured priority (255 for an address owner).
        var basePriority: Int
        /// What the instance advertises: base + trackWeight - syncDemotion, within 1...254.
        var effectivePriority: Int
        /// Weights of the tracked scripts and interfaces, summed.
        var trackWeight: Int
        var syncDemotion: Int
        /// The tracked items holding the instance in FAULT.
        var faults: [String]
        var advertsRejected: Int
    }

    /// Sorted keys: two documents of the same state are byte for byte the same, so an
    /// operator's diff shows what moved.
    func json() throws -> String { try Self.render(self) }

    /// The one rendering every mode's document goes through.
    static func render(_ document: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
    }
}

/// Writes nil as JSON null instead of leaving the key out (what synthesized Encodable
/// does): every key of the schema is always there, so a reader can tell "none" from a
/// field its version does not know.
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = wrappedValue { try c.encode(v) } else { try c.encodeNil() }
    }
}
