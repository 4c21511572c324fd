import StateSync
import Timekeeping

/// What `conntrackd -s` and its variants print (spec §6.3), rendered from a snapshot of
/// the daemon's counters so the layouts can be tested without sockets.
public struct ConntrackdStatistics: Sendable {
    public struct Cache: Sendable {
        public var name: String
        /// Entries held, including dead ones waiting for the peer's ACK.
        public var objects: Int
        public var active: Int
        public var counters: CacheCounters
        public init(name: String, objects: Int, active: Int, counters: CacheCounters) {
            self.name = name
            self.objects = objects
            self.active = active
            self.counters = counters
        }
    }

    public struct Channel: Sendable {
        public var kind: String
        public var interface: String
        public var status: String
        public var active: Bool
        public var bytesSent = 0, bytesReceived = 0, packetsSent = 0, packetsReceived = 0, sendErrors = 0, receiveErrors = 0
        /// What the hardened link refused of what arrived on this channel (unlike the
        /// traffic counters, kept for every channel, active or not).
        public var refusals = SyncRefusals()
        /// `--sync-key`: the frames refused on this channel; nil without a key.
        public var authenticationRefused: SyncAuthenticator.Counters?
        public init(kind: String, interface: String, status: String, active: Bool) {
            self.kind = kind
            self.interface = interface
            self.status = status
            self.active = active
        }
    }

    public struct Runtime: Sendable, Hashable {
        public var eventsReceived = 0, eventsFiltered = 0, eventsUnknown = 0, catchEventFailed = 0, dumpUnknown = 0
        public var overruns = 0, kernelFlushes = 0, kernelResyncs = 0, bufferSize = 0
        /// The event ring (0 bytes: events come from the socket), and how often it was full.
        public var eventRingBytes = 0, eventRingSpills: UInt64 = 0
        /// PollSecs: kernel table re-reads done by the poll timer.
        public var polls = 0
        /// Events for flows this daemon wrote itself (a commit's echo), read and skipped.
        public var ownCommitEchoes = 0
        /// `-c` commits done with the event groups left (each followed by a resync dump).
        public var quietCommits = 0
        public var localReadFailed = 0, localUnknownRequest = 0
        /// Bytes and packets of destroyed flows ("traffic processed").
        public var trafficBytes: UInt64 = 0, trafficPackets: UInt64 = 0
        /// Messages the sync mode refused (BAD): "Malformed header".
        public var modeMalformed = 0
        /// When the daemon started: its uptime.
        public var startedAt = Instant.zero
        public init() {}
    }

    public var internalCache: Cache
    public var externalCache: Cache
    public var internalBypass = false
    public var externalInject = false
    public var trafficBytes: UInt64 = 0
    public var trafficPackets: UInt64 = 0
    public var channels: [Channel] = []
    public var receive = SyncReceiveCounters()
    /// Messages the sync mode refused ("Malformed header" on top of the receiver's).
    public var modeMalformed = 0
    public var lost = 0
    public var before = 0
    /// The receiver's repair of gaps the sender may not fill (Tandem only).
    public var gapRepair = GapRepair.Counters()
    public var uptimeSeconds: UInt64 = 0
    public var runtime = Runtime()
    /// FTFW only: nil in the other modes.
    public var resendQueue: [(sequence: UInt32, control: SyncFlags?)]?
    /// FTFW only: its length, also when the entries were not listed.
    public var resendQueueCount: Int?
    var resendQueueLength: Int? { resendQueueCount ?? resendQueue?.count }
    public var resendQueueLimit = 0
    public var resendQueueOverflows = 0
    public var transmitQueue = 0
    public var errorQueueLimit = 128
    public var retransmitted = 0
    public var foreignDatagrams = 0
    /// The hardened sync link's refusals (docs/sync-hardening.md).
    public var refusals = SyncRefusals()
    /// `--sync-key`: frames sealed, accepted and refused by reason; nil when off.
    public var authentication: SyncAuthenticator.Counters?

    public init(internalCache: Cache, externalCache: Cache) {
        self.internalCache = internalCache
        self.externalCache = externalCache
    }

    static func pad(_ v: some BinaryInteger, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: " ", count: max(0, width - s.count)) + s
    }

    var malformed: Int { receive.malformed + modeMalformed }
    var activeChannel: Channel? { channels.first(where: \.active) ?? channels.first }

    /// `-s` / `-s ct`. Tandem appends its own counters after conntrackd's blocks.
    public var general: String {
        var s = cacheBlock(internalCache, bypass: internalBypass) + cacheBlock(externalCache, inject: externalInject)
        s += "traffic processed:\n\(Self.pad(trafficBytes, 20)) Bytes      \(Self.pad(trafficPackets, 20)) Pckts\n\n"
        if let c = activeChannel { s += channelBlock(c, title: "\(c.kind) traffic (active device=\(c.interface)):") }
        s += "message tracking:\n\(Self.pad(malformed, 20)) Malformed msgs \(Self.pad(lost, 20)) Lost msgs\n\n"
        s += "tandem:\n\(Self.pad(retransmitted, 20)) Retransmitted\n"
        s += "\(Self.pad(runtime.overruns, 20)) Netlink overruns \(Self.pad(runtime.eventsFiltered, 20)) Filtered events\n"
        s += "\(Self.pad(foreignDatagrams, 20)) Not from peer \(Self.pad(runtime.ownCommitEchoes, 20)) Own commit echoes\n"
        return s
    }

    func cacheBlock(_ c: Cache, bypass: Bool = false, inject: Bool = false) -> String {
        let k = c.counters
        if bypass {
            return "internal bypass:\nconnections new:\t\t\(Self.pad(k.created, 12))\nconnections updated:\t\t\(Self.pad(k.updated, 12))\n"
                + "connections destroyed:\t\t\(Self.pad(k.destroyed, 12))\n\n"
        }
        var s = inject ? "external inject:\n" : "cache \(c.name):\ncurrent active connections:\t\(Self.pad(c.active, 12))\n"
        s += "connections created:\t\t\(Self.pad(k.created, 12))\tfailed:\t\(Self.pad(k.createFailed, 12))\n"
        s += "connections updated:\t\t\(Self.pad(k.updated, 12))\tfailed:\t\(Self.pad(k.updateFailed, 12))\n"
        s += "connections destroyed:\t\t\(Self.pad(k.destroyed, 12))\tfailed:\t\(Self.pad(k.destroyFailed, 12))\n\n"
        return s
    }

    func channelBlock(_ c: Channel, title: String) -> String {
        "\(title)\n"
            + "\(Self.pad(c.bytesSent, 20)) Bytes sent \(Self.pad(c.bytesReceived, 20)) Bytes recv\n"
            + "\(Self.pad(c.packetsSent, 20)) Pckts sent \(Self.pad(c.packetsReceived, 20)) Pckts recv\n"
            + "\(Self.pad(c.sendErrors, 20)) Error send \(Self.pad(c.receiveErrors, 20)) Error recv\n\n"
    }

    /// `-s network`.
    public var network: String {
        var s = "network statistics:\n\trecv:\n"
        s += "\t\tMalformed messages:\t\(Self.pad(malformed, 20))\n"
        s += "\t\tWrong protocol version:\t\(Self.pad(receive.wrongVersion, 20))\n"
        s += "\t\tMalformed header:\t\(Self.pad(receive.malformedHeader + modeMalformed, 20))\n"
        s += "\t\tMalformed payload:\t\(Self.pad(receive.malformedPayload, 20))\n"
        s += "\t\tBad message type:\t\(Self.pad(receive.badType, 20))\n"
        s += "\t\tTruncated message:\t\(Self.pad(receive.truncated, 20))\n"
        s += "\t\tBad message size:\t\(Self.pad(receive.badSize, 20))\n"
        s += "\tsend:\n\t\tMalformed messages:\t\(Self.pad(0, 20))\n\n"
        s += "sequence tracking statistics:\n\trecv:\n"
        s += "\t\tPackets lost:\t\t\(Self.pad(lost, 20))\n"
        s += "\t\tPackets before:\t\t\(Self.pad(before, 20))\n\n"
        if let c = activeChannel { s += channelBlock(c, title: "\(c.kind) traffic (active device=\(c.interface)):") }
        // Tandem's own block, after conntrackd's layout: what gaps cost and how they were repaired.
        let g = gapRepair
        s += "gap repair (tandem):\n"
        s += "\t\tGaps:\t\t\t\(Self.pad(g.gaps, 20))\n"
        s += "\t\tSequence jumps:\t\t\(Self.pad(g.jumps, 20))\n"
        s += "\t\tGaps NACKed again:\t\(Self.pad(g.renacksSent, 20))\n"
        s += "\t\tSecond NACKs skipped:\t\(Self.pad(g.renacksSkipped, 20))\n"
        s += "\t\tResync requests:\t\(Self.pad(g.resyncRequests, 20))\n"
        s += "\t\tLost, resynced:\t\t\(Self.pad(g.messagesCoveredByResync, 20))\n"
        s += "\t\tStale flows removed:\t\(Self.pad(g.staleFlowsRemoved, 20))\n\n"
        s += refusedBlock
        if let a = authentication { s += authenticationBlock(a) }
        s += refusedByChannelBlock
        return s
    }

    /// `-s cache`.
    public var cache: String {
        extendedCacheBlock(internalCache) + extendedCacheBlock(externalCache)
    }

    func extendedCacheBlock(_ c: Cache) -> String {
        let k = c.counters
        var s = "cache:\(c.name)\tactive objects:\t\t\(Self.pad(c.objects, 12))\n"
        s += "\tactive/total entries:\t\t\(Self.pad(c.active, 12))/\(Self.pad(c.objects, 12))\n"
        s += "\tcreation OK/failed:\t\t\(Self.pad(k.created, 12))/\(Self.pad(k.createFailed, 12))\n"
        s += "\t\tno memory available:\t\(Self.pad(0, 12))\n"
        s += "\t\tno space left in cache:\t\(Self.pad(k.createFailed, 12))\n"
        s += "\tupdate OK/failed:\t\t\(Self.pad(k.updated, 12))/\(Self.pad(k.updateFailed, 12))\n"
        s += "\t\tentry not found:\t\(Self.pad(k.updateFailed, 12))\n"
        s += "\tdeletion created/failed:\t\(Self.pad(k.destroyed, 12))/\(Self.pad(k.destroyFailed, 12))\n"
        s += "\t\tentry not found:\t\(Self.pad(k.destroyFailed, 12))\n\n"
        return s
    }

    /// `-s runtime`.
    public var runtimeReport: String {
        let r = runtime
        var s = "daemon uptime: \(Self.uptime(uptimeSeconds))\n\n"
        s += "netlink stats:\n"
        s += "\tevents received:\t\(Self.pad(r.eventsReceived, 20))\n"
        s += "\tevents filtered:\t\(Self.pad(r.eventsFiltered, 20))\n"
        s += "\tevents unknown type:\t\t\(Self.pad(r.eventsUnknown, 12))\n"
        s += "\tcatch event failed:\t\t\(Self.pad(r.catchEventFailed, 12))\n"
        s += "\tdump unknown type:\t\t\(Self.pad(r.dumpUnknown, 12))\n"
        s += "\tnetlink overrun:\t\t\(Self.pad(r.overruns, 12))\n"
        s += "\tflush kernel table:\t\t\(Self.pad(r.kernelFlushes, 12))\n"
        s += "\tresync with kernel table:\t\(Self.pad(r.kernelResyncs, 12))\n"
        s += "\tcurrent buffer size (in bytes):\t\(Self.pad(r.bufferSize, 12))\n\n"
        s += "runtime stats:\n"
        s += "\tchild process failed:\t\t\(Self.pad(0, 12))\n"
        s += "\t\tchild process segfault:\t\(Self.pad(0, 12))\n"
        s += "\t\tchild process termsig:\t\(Self.pad(0, 12))\n"
        s += "\tselect failed:\t\t\t\(Self.pad(0, 12))\n"
        s += "\twait failed:\t\t\t\(Self.pad(0, 12))\n"
        s += "\tlocal read failed:\t\t\(Self.pad(r.localReadFailed, 12))\n"
        s += "\tlocal unknown request:\t\t\(Self.pad(r.localUnknownRequest, 12))\n\n"
        return s
    }

    /// conntrackd's uptime: `[D day(s) ]H h M min`, the hours only when non-zero.
    public static func uptime(_ seconds: UInt64) -> String {
        let days = seconds / 86400, hours = seconds % 86400 / 3600, minutes = seconds % 3600 / 60
        var s = days == 0 ? "" : "\(days) day\(days == 1 ? "" : "s") "
        s += hours != 0 ? "\(hours) h \(minutes) min" : "\(minutes) min"
        return s
    }

    /// `-s link`: every channel with its role.
    public var link: String {
        channels.map { c in
            channelBlock(c, title: "\(c.kind) traffic device=\(c.interface) status=\(c.status) role=\(c.active ? "ACTIVE" : "BACKUP"):")
        }.joined()
    }

    /// `-s rsqueue` (empty outside FTFW).
    public var resendQueueReport: String {
        guard let q = resendQueue else { return "" }
        var s = "resent queue (len=\(q.count))\n"
        for e in q {
            if let f = e.control { s += "control -> seq:\(e.sequence) flags:\(f.rawValue)\n" } else { s += "object -> seq:\(e.sequence)\n" }
        }
        return s
    }

    /// `-s queue`.
    public var queues: String {
        let rs = resendQueue?.count ?? 0
        var s = "allocated queue nodes:\t\t\(Self.pad(transmitQueue + rs, 12))\n\n"
        func block(_ name: String, _ current: Int, _ maximum: Int, _ errors: Int) -> String {
            "queue \(name):\ncurrent elements:\t\t\(Self.pad(current, 12))\nmaximum elements:\t\t\(Self.pad(maximum, 12))\n"
                + "not enough space errors:\t\(Self.pad(errors, 12))\n\n"
        }
        s += block("txqueue", transmitQueue, 2_147_483_647, 0)
        s += block("errorq", 0, errorQueueLimit, 0)
        if resendQueue != nil { s += block("rsqueue", rs, resendQueueLimit, resendQueueOverflows) }
        return s
    }
}
