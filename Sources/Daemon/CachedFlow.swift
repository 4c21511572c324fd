import StateSync
import Conntrack

/// A flow as the internal cache keeps it. Most flows are IPv4 TCP/UDP/ICMP with nothing
/// beyond tuples, status, timeout, mark, id, TCP state and an empty SYNPROXY: those take 54 bytes
/// (`Packed`) instead of `Flow`'s ~600, which moves every hash-table insert and resize
/// less memory. Anything else (IPv6, NAT ranges, helpers, labels, zones, timestamps…)
/// is kept whole. `flow` gives back exactly the flow that was stored.
enum CachedFlow: Sendable {
    case packed(Packed)
    indirect case general(Flow)

    init(_ f: Flow) {
        self = Packed(f).map(CachedFlow.packed) ?? .general(f)
    }

    var flow: Flow {
        switch self {
        case .packed(let p): p.flow
        case .general(let f): f
        }
    }

    /// The message conntrackd would send for the flow; for packed flows straight from the
    /// packed fields (the sender's hottest path), equal to `SyncedFlow(flow: flow)`.
    func synced(options: SyncSenderOptions) -> SyncedFlow {
        switch self {
        case .general(let f):
            return SyncedFlow(flow: f, options: options)
        case .packed(let p):
            var tcp: ProtocolInfo?
            if p.has(Packed.Bit.tcp) {
                var t = TCPInfo()
                if p.has(Packed.Bit.tcpState) { t.state = TCPState(rawValue: p.tcpState) }
                if p.has(Packed.Bit.windowScaleOriginal) { t.windowScaleOriginal = p.windowScaleOriginal }
                if p.has(Packed.Bit.windowScaleReply) { t.windowScaleReply = p.windowScaleReply }
                tcp = .tcp(t)
            }
            return SyncedFlow(original: p.original.tuple, reply: p.reply.tuple,
                              status: p.has(Packed.Bit.status) ? FlowStatus(rawValue: p.status) : nil, protocolInfo: tcp,
                              timeout: p.has(Packed.Bit.timeout) ? p.timeout : nil, mark: p.has(Packed.Bit.mark) ? p.mark : nil,
                              synproxy: p.has(Packed.Bit.zeroSynproxy) ? Synproxy(initialSequence: 0, initialTimestamp: 0, timestampOffset: 0) : nil,
                              options: options)
        }
    }

    /// The byte fields sit in the tuples' tail padding: 54 bytes, so that with the enum
    /// tag, the entry's state and its 8-byte time a cache entry is 64 bytes, not 72.
    struct Packed: Sendable {
        var original: PackedTuple
        var tcpState: UInt8 = 0
        var windowScaleOriginal: UInt8 = 0
        var reply: PackedTuple
        var windowScaleReply: UInt8 = 0
        var status: UInt32 = 0
        var timeout: UInt32 = 0
        var mark: UInt32 = 0
        var id: UInt32 = 0
        /// TCP flags of the original direction (flags, mask), then of the reply.
        var tcpFlags: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        var present: UInt16 = 0

        enum Bit {
            static let status: UInt16 = 1, timeout: UInt16 = 2, mark: UInt16 = 4, id: UInt16 = 8
            static let tcp: UInt16 = 32, tcpState: UInt16 = 64, windowScaleOriginal: UInt16 = 128
            static let windowScaleReply: UInt16 = 256, flagsOriginal: UInt16 = 512, flagsReply: UInt16 = 1024
            /// An all-zero CTA_SYNPROXY, which recent kernels attach to every TCP flow.
            static let zeroSynproxy: UInt16 = 2048
        }

        /// Both tuples `tuple`, nothing else present: a start to fill in.
        init(unchecked tuple: PackedTuple) {
            original = tuple
            reply = tuple
        }

        /// nil unless every attribute of `f` has a place here.
        init?(_ f: Flow) {
            guard f.family == AddressFamily.inet, let o = f.original.flatMap(PackedTuple.init),
                  let r = f.reply.flatMap(PackedTuple.init),
                  f.master == nil, f.statusMask == nil, f.markMask == nil, f.secmark == nil, f.use == nil,
                  f.zone == nil, f.helper == nil, f.sourceNAT == nil, f.destinationNAT == nil,
                  f.sequenceAdjustmentOriginal == nil, f.sequenceAdjustmentReply == nil,
                  f.countersOriginal == nil, f.countersReply == nil, f.timestamp == nil,
                  f.securityContext == nil, f.labels == nil, f.labelsMask == nil,
                  f.synproxy == nil || f.synproxy == Synproxy(initialSequence: 0, initialTimestamp: 0, timestampOffset: 0)
            else { return nil }
            if f.synproxy != nil { present |= Bit.zeroSynproxy }
            original = o
            reply = r
            if let v = f.status { status = v.rawValue; present |= Bit.status }
            if let v = f.timeout { timeout = v; present |= Bit.timeout }
            if let v = f.mark { mark = v; present |= Bit.mark }
            if let v = f.id { id = v; present |= Bit.id }
            switch f.protocolInfo {
            case nil: break
            case .tcp(let t)?:
                present |= Bit.tcp
                if let v = t.state { tcpState = v.rawValue; present |= Bit.tcpState }
                if let v = t.windowScaleOriginal { windowScaleOriginal = v; present |= Bit.windowScaleOriginal }
                if let v = t.windowScaleReply { windowScaleReply = v; present |= Bit.windowScaleReply }
                if let v = t.flagsOriginal { tcpFlags.0 = v.flags; tcpFlags.1 = v.mask; present |= Bit.flagsOriginal }
                if let v = t.flagsReply { tcpFlags.2 = v.flags; tcpFlags.3 = v.mask; present |= Bit.flagsReply }
            default: return nil
            }
        }

        func has(_ bit: UInt16) -> Bool { present & bit != 0 }

        /// `InternalCache.merged` for two packed flows: an update keeps what it does not
        /// carry (status, timeout, mark, the TCP info) from what was known.
        func merged(with new: Packed) -> Packed {
            var m = new
            if !new.has(Bit.status) && has(Bit.status) { m.status = status; m.present |= Bit.status }
            if !new.has(Bit.timeout) && has(Bit.timeout) { m.timeout = timeout; m.present |= Bit.timeout }
            if !new.has(Bit.mark) && has(Bit.mark) { m.mark = mark; m.present |= Bit.mark }
            if !new.has(Bit.tcp) && has(Bit.tcp) {
                let tcpBits = Bit.tcp | Bit.tcpState | Bit.windowScaleOriginal | Bit.windowScaleReply | Bit.flagsOriginal | Bit.flagsReply
                m.present |= present & tcpBits
                m.tcpState = tcpState
                m.windowScaleOriginal = windowScaleOriginal
                m.windowScaleReply = windowScaleReply
                m.tcpFlags = tcpFlags
            }
            return m
        }

        var flow: Flow {
            var f = Flow(family: AddressFamily.inet)
            f.original = original.tuple
            f.reply = reply.tuple
            if has(Bit.status) { f.status = FlowStatus(rawValue: status) }
            if has(Bit.timeout) { f.timeout = timeout }
            if has(Bit.mark) { f.mark = mark }
            if has(Bit.id) { f.id = id }
            if has(Bit.tcp) {
                var t = TCPInfo()
                if has(Bit.tcpState) { t.state = TCPState(rawValue: tcpState) }
                if has(Bit.windowScaleOriginal) { t.windowScaleOriginal = windowScaleOriginal }
                if has(Bit.windowScaleReply) { t.windowScaleReply = windowScaleReply }
                if has(Bit.flagsOriginal) { t.flagsOriginal = TCPFlags(flags: tcpFlags.0, mask: tcpFlags.1) }
                if has(Bit.flagsReply) { t.flagsReply = TCPFlags(flags: tcpFlags.2, mask: tcpFlags.3) }
                f.protocolInfo = .tcp(t)
            }
            if has(Bit.zeroSynproxy) { f.synproxy = Synproxy(initialSequence: 0, initialTimestamp: 0, timestampOffset: 0) }
            return f
        }
    }
}
