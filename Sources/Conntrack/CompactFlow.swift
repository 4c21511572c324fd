import IPAddressing

/// A flow as the internal cache keeps it. Most flows are IPv4 TCP/UDP/ICMP with nothing
/// beyond tuples, status, timeout, mark, id, TCP state and an empty SYNPROXY: those take 54 bytes
/// (`Packed`) instead of `Flow`'s ~600, which moves every hash-table insert and resize
/// less memory. Anything else (IPv6, NAT ranges, helpers, labels, zones, timestamps…)
/// is kept whole. `flow` gives back exactly the flow that was stored.
public enum CompactFlow: Sendable {
    case packed(Packed)
    indirect case general(Flow)

    public init(_ f: Flow) {
        self = Packed(f).map(CompactFlow.packed) ?? .general(f)
    }

    public var flow: Flow {
        switch self {
        case .packed(let p): p.flow
        case .general(let f): f
        }
    }

    /// The byte fields sit in the tuples' tail padding: 54 bytes, so that with the enum
    /// tag, the entry's state and its 8-byte time a cache entry is 64 bytes, not 72.
    public struct Packed: Sendable {
        public var original: PackedTuple
        public var tcpState: UInt8 = 0
        public var windowScaleOriginal: UInt8 = 0
        public var reply: PackedTuple
        public var windowScaleReply: UInt8 = 0
        public var status: UInt32 = 0
        public var timeout: UInt32 = 0
        public var mark: UInt32 = 0
        public var id: UInt32 = 0
        /// TCP flags of the original direction (flags, mask), then of the reply.
        public var tcpFlags: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        public var present: UInt16 = 0

        public enum Bit {
            public static let status: UInt16 = 1, timeout: UInt16 = 2, mark: UInt16 = 4, id: UInt16 = 8
            public static let tcp: UInt16 = 32, tcpState: UInt16 = 64, windowScaleOriginal: UInt16 = 128
            public static let windowScaleReply: UInt16 = 256, flagsOriginal: UInt16 = 512, flagsReply: UInt16 = 1024
            /// An all-zero CTA_SYNPROXY, which recent kernels attach to every TCP flow.
            public static let zeroSynproxy: UInt16 = 2048
        }

        /// Both tuples `tuple`, nothing else present: a start to fill in.
        public init(unchecked tuple: PackedTuple) {
            original = tuple
            reply = tuple
        }

        /// nil unless every attribute of `f` has a place here.
        public init?(_ f: Flow) {
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

        public func has(_ bit: UInt16) -> Bool { present & bit != 0 }

        /// `InternalCache.merged` for two packed flows: an update keeps what it does not
        /// carry (status, timeout, mark, the TCP info) from what was known.
        public func merged(with new: Packed) -> Packed {
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

        public var flow: Flow {
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
