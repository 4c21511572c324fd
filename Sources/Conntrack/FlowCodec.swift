import Netlink
import IPAddressing

/// How strictly a decoder treats attributes it does not know. Kernel replies use
/// `.lenient` (newer kernels add attributes); peer-supplied bytes can use `.strict`.
public enum UnknownAttributePolicy: Sendable {
    case lenient
    case strict
}

/// The 4-byte nfgenmsg after the netlink header.
public struct NetfilterHeader: Hashable, Sendable {
    public static let size = 4
    public var family: UInt8
    public var version: UInt8
    public var resourceID: UInt16

    public init(family: UInt8, version: UInt8 = 0, resourceID: UInt16 = 0) {
        self.family = family
        self.version = version
        self.resourceID = resourceID
    }

    public func encode(into e: inout AttributeEncoder) {
        e.bytes.append(contentsOf: [family, version, UInt8(resourceID >> 8), UInt8(resourceID & 0xff)])
    }

    /// Lends `body` a decoder over the attributes after the nfgenmsg of a message body,
    /// with the family the nfgenmsg names.
    public static func withAttributes<T>(
        _ bytes: [UInt8], _ payload: Range<Int>, _ body: (inout AttributeDecoder, UInt8) throws(NetlinkDecodingError) -> T
    ) throws(NetlinkDecodingError) -> T {
        let nf = try decode(bytes, payload)
        return try withRawBytes(bytes) { (raw) throws(NetlinkDecodingError) -> T in
            var d = AttributeDecoder(raw, range: (payload.lowerBound + size)..<payload.upperBound)
            return try body(&d, nf.family)
        }
    }

    public static func decode(_ bytes: [UInt8], _ range: Range<Int>) throws(NetlinkDecodingError) -> NetfilterHeader {
        guard range.count >= size, range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw .truncatedPayload(type: 0, needed: size, available: max(0, range.count))
        }
        let o = range.lowerBound
        return NetfilterHeader(family: bytes[o], version: bytes[o + 1], resourceID: UInt16(bytes[o + 2]) << 8 | UInt16(bytes[o + 3]))
    }
}

/// Flow ↔ ctnetlink attributes. Encoding follows the attribute order libnetfilter_conntrack
/// uses, so messages we build are byte-identical to conntrack(8)'s for the same request.
public enum FlowCodec {
    // MARK: decode

    /// Decodes the body of a CT_NEW / CT_GET / CT_DELETE message (after the netlink header).
    public static func decode(
        _ bytes: [UInt8], payload: Range<Int>, unknown: UnknownAttributePolicy = .lenient
    ) throws(NetlinkDecodingError) -> Flow {
        try NetfilterHeader.withAttributes(bytes, payload) { (d, family) throws(NetlinkDecodingError) in
            try decodeAttributes(&d, family: family, unknown: unknown)
        }
    }

    static func decodeAttributes(
        _ d: inout AttributeDecoder, family: UInt8, unknown: UnknownAttributePolicy
    ) throws(NetlinkDecodingError) -> Flow {
        var flow = Flow(family: family)
        while let a = d.next() {
            switch a.type {
            case CTA.tupleOrig: flow.original = decodeTuple(&d, a, unknown)
            case CTA.tupleReply: flow.reply = decodeTuple(&d, a, unknown)
            case CTA.tupleMaster: flow.master = decodeTuple(&d, a, unknown)
            case CTA.status: flow.status = FlowStatus(rawValue: d.uint32BE(a))
            case CTA.statusMask: flow.statusMask = FlowStatus(rawValue: d.uint32BE(a))
            case CTA.timeout: flow.timeout = d.uint32BE(a)
            case CTA.mark: flow.mark = d.uint32BE(a)
            case CTA.markMask: flow.markMask = d.uint32BE(a)
            case CTA.secmark: flow.secmark = d.uint32BE(a)
            case CTA.id: flow.id = d.uint32BE(a)
            case CTA.use: flow.use = d.uint32BE(a)
            case CTA.zone: flow.zone = d.uint16BE(a)
            case CTA.protoinfo: flow.protocolInfo = decodeProtocolInfo(&d, a, unknown)
            case CTA.help: flow.helper = decodeHelper(&d, a, unknown)
            case CTA.natSrc: flow.sourceNAT = decodeNAT(&d, a, unknown)
            case CTA.natDst: flow.destinationNAT = decodeNAT(&d, a, unknown)
            case CTA.seqAdjOrig: flow.sequenceAdjustmentOriginal = decodeSeqAdj(&d, a, unknown)
            case CTA.seqAdjReply: flow.sequenceAdjustmentReply = decodeSeqAdj(&d, a, unknown)
            case CTA.countersOrig: flow.countersOriginal = decodeCounters(&d, a, unknown)
            case CTA.countersReply: flow.countersReply = decodeCounters(&d, a, unknown)
            case CTA.timestamp: flow.timestamp = decodeTimestamp(&d, a, unknown)
            case CTA.secctx:
                var n = d.nested(a)
                while let c = n.next() {
                    if c.type == CTA.Secctx.name { flow.securityContext = n.string(c) } else { other(&n, c, unknown, "secctx") }
                }
                d.absorb(n)
            case CTA.labels: flow.labels = d.data(a)
            case CTA.labelsMask: flow.labelsMask = d.data(a)
            case CTA.synproxy:
                var n = d.nested(a)
                var s = Synproxy(initialSequence: 0, initialTimestamp: 0, timestampOffset: 0)
                while let c = n.next() {
                    switch c.type {
                    case CTA.Synproxy.isn: s.initialSequence = n.uint32BE(c)
                    case CTA.Synproxy.its: s.initialTimestamp = n.uint32BE(c)
                    case CTA.Synproxy.tsoff: s.timestampOffset = n.uint32BE(c)
                    default: other(&n, c, unknown, "synproxy")
                    }
                }
                d.absorb(n)
                flow.synproxy = s
            default: other(&d, a, unknown, "conntrack")
            }
        }
        if let e = d.error { throw e }
        return flow
    }

    static func other(_ d: inout AttributeDecoder, _ a: Attribute, _ policy: UnknownAttributePolicy, _ context: DecodingContext) {
        if policy == .strict { d.fail(.unknownAttribute(type: a.type, context: context)) }
    }

    static func decodeTuple(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> Tuple? {
        var n = d.nested(a)
        var src: IPAddress?
        var dst: IPAddress?
        var t = Tuple(source: .v4(0), destination: .v4(0), protocolNumber: 0)
        var sawProto = false
        while let c = n.next() {
            switch c.type {
            case CTA.Tuple.ip:
                var ip = n.nested(c)
                while let x = ip.next() {
                    switch x.type {
                    case CTA.IP.v4Src, CTA.IP.v4Dst, CTA.IP.v6Src, CTA.IP.v6Dst:
                        let v6 = x.type == CTA.IP.v6Src || x.type == CTA.IP.v6Dst
                        guard x.length == (v6 ? 16 : 4) else {
                            ip.fail(.wrongPayloadSize(attribute: x.type, expected: v6 ? 16 : 4, actual: x.length))
                            continue
                        }
                        let addr = IPAddress(raw: ip.raw(x))
                        if x.type == CTA.IP.v4Src || x.type == CTA.IP.v6Src { src = addr } else { dst = addr }
                    default: other(&ip, x, u, "tuple-ip")
                    }
                }
                n.absorb(ip)
            case CTA.Tuple.proto:
                var p = n.nested(c)
                while let x = p.next() {
                    switch x.type {
                    case CTA.Proto.num: t.protocolNumber = p.uint8(x); sawProto = true
                    case CTA.Proto.srcPort: t.sourcePort = p.uint16BE(x)
                    case CTA.Proto.dstPort: t.destinationPort = p.uint16BE(x)
                    case CTA.Proto.icmpID, CTA.Proto.icmpv6ID: t.icmpID = p.uint16BE(x)
                    case CTA.Proto.icmpType, CTA.Proto.icmpv6Type: t.icmpType = p.uint8(x)
                    case CTA.Proto.icmpCode, CTA.Proto.icmpv6Code: t.icmpCode = p.uint8(x)
                    default: other(&p, x, u, "tuple-proto")
                    }
                }
                n.absorb(p)
            case CTA.Tuple.zone: t.zone = n.uint16BE(c)
            default: other(&n, c, u, "tuple")
            }
        }
        d.absorb(n)
        guard let s = src, let ds = dst, s.family == ds.family else {
            if d.error == nil { d.fail(.missingAttribute("tuple addresses")) }
            return nil
        }
        if !sawProto { d.fail(.missingAttribute("tuple protocol")); return nil }
        t.source = s
        t.destination = ds
        return t
    }

    static func decodeProtocolInfo(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> ProtocolInfo? {
        var n = d.nested(a)
        var result: ProtocolInfo?
        while let c = n.next() {
            var p = n.nested(c)
            switch c.type {
            case CTA.ProtoInfo.tcp:
                var i = TCPInfo()
                while let x = p.next() {
                    switch x.type {
                    case CTA.TCP.state: i.state = TCPState(rawValue: p.uint8(x))
                    case CTA.TCP.wscaleOriginal: i.windowScaleOriginal = p.uint8(x)
                    case CTA.TCP.wscaleReply: i.windowScaleReply = p.uint8(x)
                    case CTA.TCP.flagsOriginal, CTA.TCP.flagsReply:
                        guard x.length == 2 else {
                            p.fail(.wrongPayloadSize(attribute: x.type, expected: 2, actual: x.length)); continue
                        }
                        let r = p.raw(x)
                        let f = TCPFlags(flags: r[0], mask: r[1])
                        if x.type == CTA.TCP.flagsOriginal { i.flagsOriginal = f } else { i.flagsReply = f }
                    default: other(&p, x, u, "protoinfo-tcp")
                    }
                }
                result = .tcp(i)
            case CTA.ProtoInfo.sctp:
                var i = SCTPInfo()
                while let x = p.next() {
                    switch x.type {
                    case CTA.SCTP.state: i.state = p.uint8(x)
                    case CTA.SCTP.vtagOriginal: i.verificationTagOriginal = p.uint32BE(x)
                    case CTA.SCTP.vtagReply: i.verificationTagReply = p.uint32BE(x)
                    default: other(&p, x, u, "protoinfo-sctp")
                    }
                }
                result = .sctp(i)
            case CTA.ProtoInfo.dccp:
                var i = DCCPInfo()
                while let x = p.next() {
                    switch x.type {
                    case CTA.DCCP.state: i.state = p.uint8(x)
                    case CTA.DCCP.role: i.role = p.uint8(x)
                    case CTA.DCCP.handshakeSeq: i.handshakeSequence = p.uint64BE(x)
                    case 4: break // CTA_PROTOINFO_DCCP_PAD
                    default: other(&p, x, u, "protoinfo-dccp")
                    }
                }
                result = .dccp(i)
            default: other(&n, c, u, "protoinfo")
            }
            n.absorb(p)
        }
        d.absorb(n)
        return result
    }

    static func decodeHelper(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> Helper? {
        var n = d.nested(a)
        var h = Helper(name: "")
        while let c = n.next() {
            switch c.type {
            case CTA.Help.name: h.name = n.string(c)
            case CTA.Help.info: h.info = n.data(c)
            default: other(&n, c, u, "help")
            }
        }
        d.absorb(n)
        return h
    }

    static func decodeNAT(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> NATRange {
        var n = d.nested(a)
        var r = NATRange()
        while let c = n.next() {
            switch c.type {
            case CTA.NAT.v4MinIP, CTA.NAT.v4MaxIP, CTA.NAT.v6MinIP, CTA.NAT.v6MaxIP:
                guard let addr = IPAddress(raw: n.raw(c)) else {
                    n.fail(.wrongPayloadSize(attribute: c.type, expected: 4, actual: c.length)); continue
                }
                if c.type == CTA.NAT.v4MinIP || c.type == CTA.NAT.v6MinIP { r.minimumAddress = addr } else { r.maximumAddress = addr }
            case CTA.NAT.proto:
                var p = n.nested(c)
                while let x = p.next() {
                    switch x.type {
                    case CTA.ProtoNAT.portMin: r.minimumPort = p.uint16BE(x)
                    case CTA.ProtoNAT.portMax: r.maximumPort = p.uint16BE(x)
                    default: other(&p, x, u, "nat-proto")
                    }
                }
                n.absorb(p)
            default: other(&n, c, u, "nat")
            }
        }
        d.absorb(n)
        return r
    }

    static func decodeSeqAdj(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> SequenceAdjustment {
        var n = d.nested(a)
        var s = SequenceAdjustment(correctionPosition: 0, offsetBefore: 0, offsetAfter: 0)
        while let c = n.next() {
            switch c.type {
            case CTA.SeqAdj.correctionPos: s.correctionPosition = n.uint32BE(c)
            case CTA.SeqAdj.offsetBefore: s.offsetBefore = n.uint32BE(c)
            case CTA.SeqAdj.offsetAfter: s.offsetAfter = n.uint32BE(c)
            default: other(&n, c, u, "seqadj")
            }
        }
        d.absorb(n)
        return s
    }

    static func decodeCounters(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> Counters {
        var n = d.nested(a)
        var c = Counters(packets: 0, bytes: 0)
        while let x = n.next() {
            switch x.type {
            case CTA.Counters.packets: c.packets = n.uint64BE(x)
            case CTA.Counters.bytes: c.bytes = n.uint64BE(x)
            case CTA.Counters.packets32: c.packets = UInt64(n.uint32BE(x))
            case CTA.Counters.bytes32: c.bytes = UInt64(n.uint32BE(x))
            case 5: break // CTA_COUNTERS_PAD
            default: other(&n, x, u, "counters")
            }
        }
        d.absorb(n)
        return c
    }

    static func decodeTimestamp(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> Timestamp {
        var n = d.nested(a)
        var t = Timestamp()
        while let x = n.next() {
            switch x.type {
            case CTA.Timestamp.start: t.start = n.uint64BE(x)
            case CTA.Timestamp.stop: t.stop = n.uint64BE(x)
            case 3: break // CTA_TIMESTAMP_PAD
            default: other(&n, x, u, "timestamp")
            }
        }
        d.absorb(n)
        return t
    }

    // MARK: encode

    /// Appends the nfgenmsg and attributes of `flow` (everything a request may carry; the
    /// kernel-reported id, use, counters and timestamps are not requests and are left out).
    public static func encode(_ flow: Flow, into e: inout AttributeEncoder) {
        NetfilterHeader(family: flow.family).encode(into: &e)
        encodeAttributes(flow, into: &e)
    }

    public static func encodeAttributes(_ flow: Flow, into e: inout AttributeEncoder) {
        if let t = flow.original { encodeTuple(t, type: CTA.tupleOrig, into: &e) }
        if let t = flow.reply { encodeTuple(t, type: CTA.tupleReply, into: &e) }
        if let t = flow.master { encodeTuple(t, type: CTA.tupleMaster, into: &e) }
        if let s = flow.status { e.uint32BE(CTA.status, s.rawValue) }
        if let s = flow.statusMask { e.uint32BE(CTA.statusMask, s.rawValue) }
        if let t = flow.timeout { e.uint32BE(CTA.timeout, t) }
        if let m = flow.mark { e.uint32BE(CTA.mark, m) }
        if let m = flow.markMask { e.uint32BE(CTA.markMask, m) }
        if let s = flow.secmark { e.uint32BE(CTA.secmark, s) }
        if let p = flow.protocolInfo { encodeProtocolInfo(p, into: &e) }
        if let n = flow.sourceNAT { encodeNAT(n, type: CTA.natSrc, into: &e) }
        if let n = flow.destinationNAT { encodeNAT(n, type: CTA.natDst, into: &e) }
        if let s = flow.sequenceAdjustmentOriginal { encodeSeqAdj(s, type: CTA.seqAdjOrig, into: &e) }
        if let s = flow.sequenceAdjustmentReply { encodeSeqAdj(s, type: CTA.seqAdjReply, into: &e) }
        if let h = flow.helper {
            e.nested(CTA.help) { n in
                n.string(CTA.Help.name, h.name)
                if let i = h.info { n.data(CTA.Help.info, i) }
            }
        }
        if let z = flow.zone { e.uint16BE(CTA.zone, z) }
        if let l = flow.labels { e.data(CTA.labels, l) }
        if let l = flow.labelsMask { e.data(CTA.labelsMask, l) }
        if let s = flow.synproxy {
            e.nested(CTA.synproxy) { n in
                n.uint32BE(CTA.Synproxy.isn, s.initialSequence)
                n.uint32BE(CTA.Synproxy.its, s.initialTimestamp)
                n.uint32BE(CTA.Synproxy.tsoff, s.timestampOffset)
            }
        }
    }

    public static func encodeTuple(_ t: Tuple, type: UInt16, into e: inout AttributeEncoder) {
        e.nested(type) { n in
            n.nested(CTA.Tuple.ip) { ip in
                let v4 = t.source.family == AddressFamily.inet
                ip.raw(v4 ? CTA.IP.v4Src : CTA.IP.v6Src) { t.source.append(to: &$0) }
                ip.raw(v4 ? CTA.IP.v4Dst : CTA.IP.v6Dst) { t.destination.append(to: &$0) }
            }
            n.nested(CTA.Tuple.proto) { p in
                p.uint8(CTA.Proto.num, t.protocolNumber)
                if t.isICMP {
                    let v6 = t.protocolNumber == IPProtocolNumber.icmpv6
                    if let c = t.icmpCode { p.uint8(v6 ? CTA.Proto.icmpv6Code : CTA.Proto.icmpCode, c) }
                    if let ty = t.icmpType { p.uint8(v6 ? CTA.Proto.icmpv6Type : CTA.Proto.icmpType, ty) }
                    if let i = t.icmpID { p.uint16BE(v6 ? CTA.Proto.icmpv6ID : CTA.Proto.icmpID, i) }
                } else {
                    if let s = t.sourcePort { p.uint16BE(CTA.Proto.srcPort, s) }
                    if let d = t.destinationPort { p.uint16BE(CTA.Proto.dstPort, d) }
                }
            }
            if let z = t.zone { n.uint16BE(CTA.Tuple.zone, z) }
        }
    }

    static func encodeProtocolInfo(_ p: ProtocolInfo, into e: inout AttributeEncoder) {
        e.nested(CTA.protoinfo) { n in
            switch p {
            case .tcp(let i):
                n.nested(CTA.ProtoInfo.tcp) { t in
                    if let s = i.state { t.uint8(CTA.TCP.state, s.rawValue) }
                    if let w = i.windowScaleOriginal { t.uint8(CTA.TCP.wscaleOriginal, w) }
                    if let w = i.windowScaleReply { t.uint8(CTA.TCP.wscaleReply, w) }
                    if let f = i.flagsOriginal { t.raw(CTA.TCP.flagsOriginal) { $0.append(f.flags); $0.append(f.mask) } }
                    if let f = i.flagsReply { t.raw(CTA.TCP.flagsReply) { $0.append(f.flags); $0.append(f.mask) } }
                }
            case .sctp(let i):
                n.nested(CTA.ProtoInfo.sctp) { t in
                    if let s = i.state { t.uint8(CTA.SCTP.state, s) }
                    if let v = i.verificationTagOriginal { t.uint32BE(CTA.SCTP.vtagOriginal, v) }
                    if let v = i.verificationTagReply { t.uint32BE(CTA.SCTP.vtagReply, v) }
                }
            case .dccp(let i):
                n.nested(CTA.ProtoInfo.dccp) { t in
                    if let s = i.state { t.uint8(CTA.DCCP.state, s) }
                    if let r = i.role { t.uint8(CTA.DCCP.role, r) }
                    if let h = i.handshakeSequence { t.uint64BE(CTA.DCCP.handshakeSeq, h) }
                }
            }
        }
    }

    static func encodeNAT(_ r: NATRange, type: UInt16, into e: inout AttributeEncoder) {
        e.nested(type) { n in
            if let a = r.minimumAddress {
                n.raw(a.family == AddressFamily.inet ? CTA.NAT.v4MinIP : CTA.NAT.v6MinIP) { a.append(to: &$0) }
            }
            if let a = r.maximumAddress {
                n.raw(a.family == AddressFamily.inet ? CTA.NAT.v4MaxIP : CTA.NAT.v6MaxIP) { a.append(to: &$0) }
            }
            if r.minimumPort != nil || r.maximumPort != nil {
                n.nested(CTA.NAT.proto) { p in
                    if let m = r.minimumPort { p.uint16BE(CTA.ProtoNAT.portMin, m) }
                    if let m = r.maximumPort { p.uint16BE(CTA.ProtoNAT.portMax, m) }
                }
            }
        }
    }

    static func encodeSeqAdj(_ s: SequenceAdjustment, type: UInt16, into e: inout AttributeEncoder) {
        e.nested(type) { n in
            n.uint32BE(CTA.SeqAdj.correctionPos, s.correctionPosition)
            n.uint32BE(CTA.SeqAdj.offsetBefore, s.offsetBefore)
            n.uint32BE(CTA.SeqAdj.offsetAfter, s.offsetAfter)
        }
    }
}
