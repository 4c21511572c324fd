import Conntrack
import IPAddressing

/// A conntrack as conntrackd puts it on the wire: only the original tuple and the
/// attributes of §2.2, each present or not. Kept apart from `Flow` so a received message
/// re-encodes byte for byte; `init(flow:)` applies the C sender's rules and `flow`
/// rebuilds what a receiver commits.
public struct SyncedFlow: Hashable, Sendable {
    public var source: IPAddress?
    public var destination: IPAddress?
    public var protocolNumber: UInt8?
    public var ports: SyncPorts?
    public var tcpState: UInt8?
    public var status: UInt32?
    public var timeout: UInt32?
    public var mark: UInt32?
    public var masterSource: IPAddress?
    public var masterDestination: IPAddress?
    public var masterProtocol: UInt8?
    public var masterPorts: SyncPorts?
    public var sourceNAT: IPAddress?
    public var destinationNAT: IPAddress?
    /// Little-endian on the wire (§2.3).
    public var sourcePortNAT: UInt16?
    public var destinationPortNAT: UInt16?
    /// orig correction_pos, offset_before, offset_after, then the same for reply.
    public var sequenceAdjustment: [UInt32]?
    public var sctpState: UInt8?
    public var sctpVtagOriginal: UInt32?
    public var sctpVtagReply: UInt32?
    public var dccpState: UInt8?
    public var dccpRole: UInt8?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    /// Little-endian on the wire (§2.3).
    public var icmpID: UInt16?
    public var windowScaleOriginal: UInt8?
    public var windowScaleReply: UInt8?
    public var helper: String?
    /// Label bitmap as 32-bit words, word i bit b = label 32·i + b.
    public var labels: [UInt32]?
    public var synproxy: SyncSynproxy?
    public var zone: UInt16?

    public init() {}
}

public struct SyncPorts: Hashable, Sendable {
    public var source: UInt16
    public var destination: UInt16
    public init(source: UInt16, destination: UInt16) { self.source = source; self.destination = destination }
}

/// SYNPROXY in wire order: its, isn, tsoff.
public struct SyncSynproxy: Hashable, Sendable {
    public var its: UInt32
    public var isn: UInt32
    public var tsoff: UInt32
    public init(its: UInt32, isn: UInt32, tsoff: UInt32) { self.its = its; self.isn = isn; self.tsoff = tsoff }
}

/// What a sender puts in its messages beyond the flow itself.
public struct SyncSenderOptions: Hashable, Sendable {
    /// Sent only when the sender's CommitTimeout is 0/unset.
    public var includeTimeout: Bool
    /// `Options { TCPWindowTracking on }`: also send window scales.
    public var windowTracking: Bool

    public init(includeTimeout: Bool = true, windowTracking: Bool = false) {
        self.includeTimeout = includeTimeout
        self.windowTracking = windowTracking
    }
}

extension SyncedFlow {
    static let portProtocols: Set<UInt8> = [IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.sctp, IPProtocolNumber.dccp]

    /// The attributes conntrackd 1.4.7 sends for `flow` (spec §2.5).
    public init(flow: Flow, options: SyncSenderOptions = SyncSenderOptions()) {
        guard let o = flow.original else { self.init(); return }
        self.init(original: o, reply: flow.reply, status: flow.status, protocolInfo: flow.protocolInfo,
                  timeout: flow.timeout, mark: flow.mark, synproxy: flow.synproxy, options: options)
        if let m = flow.master {
            masterSource = m.source
            masterDestination = m.destination
            masterProtocol = m.protocolNumber
            if let s = m.sourcePort, let d = m.destinationPort { masterPorts = SyncPorts(source: s, destination: d) }
        }
        if let a = flow.sequenceAdjustmentOriginal, let b = flow.sequenceAdjustmentReply {
            sequenceAdjustment = [a.correctionPosition, a.offsetBefore, a.offsetAfter, b.correctionPosition, b.offsetBefore, b.offsetAfter]
        }
        helper = flow.helper?.name
        if let raw = flow.labels {
            var words: [UInt32] = []
            var i = 0
            while i + 3 < raw.count {
                words.append(UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
                i += 4
            }
            if let last = words.lastIndex(where: { $0 != 0 }) { labels = Array(words[...last]) }
        }
        if let z = flow.zone, z != 0 { zone = z }
    }

    /// The same rules for a flow given by its parts: a cache that keeps flows packed
    /// builds the message without assembling a whole `Flow` first.
    public init(original o: Tuple, reply: Tuple?, status flowStatus: FlowStatus?, protocolInfo: ProtocolInfo?,
                timeout flowTimeout: UInt32?, mark flowMark: UInt32?, synproxy flowSynproxy: Synproxy?,
                options: SyncSenderOptions) {
        self.init()
        source = o.source
        destination = o.destination
        status = flowStatus?.rawValue ?? 0
        protocolNumber = o.protocolNumber
        let ports = SyncPorts(source: o.sourcePort ?? 0, destination: o.destinationPort ?? 0)
        switch o.protocolNumber {
        case IPProtocolNumber.tcp:
            self.ports = ports
            if let tcp = protocolInfo?.tcp, let state = tcp.state {
                tcpState = state.rawValue
                if options.windowTracking {
                    windowScaleOriginal = tcp.windowScaleOriginal
                    windowScaleReply = tcp.windowScaleReply
                }
            }
        case IPProtocolNumber.sctp:
            self.ports = ports
            if case .sctp(let i)? = protocolInfo, let s = i.state {
                sctpState = s
                sctpVtagOriginal = i.verificationTagOriginal
                sctpVtagReply = i.verificationTagReply
            }
        case IPProtocolNumber.dccp:
            self.ports = ports
            if case .dccp(let i)? = protocolInfo, let s = i.state {
                dccpState = s
                dccpRole = i.role
            }
        case IPProtocolNumber.udp:
            self.ports = ports
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            if let t = o.icmpType {
                icmpType = t
                icmpCode = o.icmpCode ?? 0
                icmpID = o.icmpID ?? 0
            }
        default:
            break // conntrackd sends no layer-4 identity for other protocols (§8.2)
        }
        if options.includeTimeout { timeout = flowTimeout }
        mark = flowMark
        if let r = reply { applyNAT(original: o, reply: r, status: flowStatus) }
        if let s = flowSynproxy {
            synproxy = SyncSynproxy(its: s.initialTimestamp, isn: s.initialSequence, tsoff: s.timestampOffset)
        }
    }

    private mutating func applyNAT(original o: Tuple, reply r: Tuple, status: FlowStatus?) {
        let srcDone = status.map { $0.contains(.sourceNATDone) } ?? true
        let dstDone = status.map { $0.contains(.destinationNATDone) } ?? true
        if srcDone && r.destination != o.source { sourceNAT = r.destination }
        if dstDone && r.source != o.destination { destinationNAT = r.source }
        if o.isICMP {
            // The C sender compares the raw layer-4 unions (id against type/code) and reads
            // the unset port attributes as 0: a NAT host sends SPAT = DPAT = 0 for ICMP.
            let originalID = o.icmpID ?? 0
            let replyTypeCode = UInt16(r.icmpType ?? 0) << 8 | UInt16(r.icmpCode ?? 0)
            let originalTypeCode = UInt16(o.icmpType ?? 0) << 8 | UInt16(o.icmpCode ?? 0)
            if srcDone && originalID != replyTypeCode { sourcePortNAT = 0 }
            if dstDone && originalTypeCode != (r.icmpID ?? 0) { destinationPortNAT = 0 }
            return
        }
        guard Self.portProtocols.contains(o.protocolNumber) else { return }
        if srcDone, let rd = r.destinationPort, rd != (o.sourcePort ?? 0) { sourcePortNAT = rd }
        if dstDone, let rs = r.sourcePort, rs != (o.destinationPort ?? 0) { destinationPortNAT = rs }
    }

    /// The original tuple, which identifies the flow: all a cache needs to find it.
    public var originalTuple: Tuple? {
        guard let src = source, let dst = destination, let proto = protocolNumber else { return nil }
        var o = Tuple(source: src, destination: dst, protocolNumber: proto)
        if let p = ports, !(proto == IPProtocolNumber.icmp || proto == IPProtocolNumber.icmpv6) {
            o.sourcePort = p.source
            o.destinationPort = p.destination
        }
        if icmpType != nil || icmpID != nil {
            o.icmpType = icmpType
            o.icmpCode = icmpCode
            o.icmpID = icmpID
        }
        return o
    }

    /// The flow a receiver caches and commits: the reply tuple is the inverse of the
    /// original with the NAT attributes applied (spec §2.7, §5.5).
    public var flow: Flow? {
        guard let o = originalTuple else { return nil }
        let proto = o.protocolNumber
        var r = o.inverted
        if let a = sourceNAT { r.destination = a }
        if let a = destinationNAT { r.source = a }
        if !o.isICMP {
            if let p = sourcePortNAT { r.destinationPort = p }
            if let p = destinationPortNAT { r.sourcePort = p }
        }
        var f = Flow(original: o, reply: r)
        // The kernel sets up NAT for a created entry only from explicit NAT ranges (the
        // reply tuple alone leaves replies un-translated), as conntrackd's commit does.
        let ports = !o.isICMP
        if sourceNAT != nil || (ports && sourcePortNAT != nil) {
            let a = sourceNAT ?? o.source
            let p = ports ? sourcePortNAT : nil
            f.sourceNAT = NATRange(minimumAddress: a, maximumAddress: a, minimumPort: p, maximumPort: p)
        }
        if destinationNAT != nil || (ports && destinationPortNAT != nil) {
            let a = destinationNAT ?? o.destination
            let p = ports ? destinationPortNAT : nil
            f.destinationNAT = NATRange(minimumAddress: a, maximumAddress: a, minimumPort: p, maximumPort: p)
        }
        f.status = status.map(FlowStatus.init(rawValue:))
        f.timeout = timeout
        f.mark = mark
        switch proto {
        case IPProtocolNumber.tcp where tcpState != nil || windowScaleOriginal != nil:
            f.protocolInfo = .tcp(TCPInfo(state: tcpState.map(TCPState.init(rawValue:)),
                                          windowScaleOriginal: windowScaleOriginal, windowScaleReply: windowScaleReply))
        case IPProtocolNumber.sctp where sctpState != nil:
            f.protocolInfo = .sctp(SCTPInfo(state: sctpState, verificationTagOriginal: sctpVtagOriginal, verificationTagReply: sctpVtagReply))
        case IPProtocolNumber.dccp where dccpState != nil:
            f.protocolInfo = .dccp(DCCPInfo(state: dccpState, role: dccpRole))
        default: break
        }
        if let ms = masterSource, let md = masterDestination, let mp = masterProtocol {
            f.master = Tuple(source: ms, destination: md, protocolNumber: mp,
                             sourcePort: masterPorts?.source, destinationPort: masterPorts?.destination)
        }
        if let s = sequenceAdjustment, s.count == 6 {
            f.sequenceAdjustmentOriginal = SequenceAdjustment(correctionPosition: s[0], offsetBefore: s[1], offsetAfter: s[2])
            f.sequenceAdjustmentReply = SequenceAdjustment(correctionPosition: s[3], offsetBefore: s[4], offsetAfter: s[5])
        }
        f.helper = helper.map { Helper(name: $0) }
        if let words = labels {
            var raw: [UInt8] = []
            for w in words { raw += [UInt8(w & 0xff), UInt8((w >> 8) & 0xff), UInt8((w >> 16) & 0xff), UInt8(w >> 24)] }
            f.labels = raw
        }
        if let s = synproxy {
            f.synproxy = Synproxy(initialSequence: s.isn, initialTimestamp: s.its, timestampOffset: s.tsoff)
        }
        f.zone = zone
        return f
    }
}
