import Conntrack
import IPAddressing

/// The sync message for a packed flow, written straight from the packed fields: the
/// same bytes as `SyncMessage(…, body: .flow(CompactFlow.packed(p).synced(options:)))`
/// encodes to, without a `SyncedFlow` (with its tuples and optionals) in between. The
/// sender writes one per flow of a burst; building and encoding the general message was
/// a tenth of its CPU. Tested byte for byte against the general path.
extension CompactFlow.Packed {
    /// More than the largest message a packed flow makes (about 150 bytes).
    public static let messageCapacity = 256

    private typealias A = SyncAttribute.Flow

    /// Writes the message at `out`, which has room for `messageCapacity` bytes; returns
    /// its length.
    public func writeMessage(type: SyncMessageType, flags: SyncFlags, sequence: UInt32, options: SyncSenderOptions,
                      to out: UnsafeMutableRawPointer) -> Int {
        var w = RawMessageWriter(base: out)
        w.u8(SyncHeader.version << 4 | type.rawValue)
        w.u8(flags.rawValue)
        w.be16(0) // the length, set below
        w.be32(sequence)

        let o = original, r = reply, proto = o.protocolNumber
        w.attribute(A.ipv4, length: 8) { $0.be32(o.source); $0.be32(o.destination) }
        w.attribute(A.status, length: 4) { $0.be32(has(Bit.status) ? status : 0) }
        w.attribute(A.l4proto, length: 1) { $0.u8(proto) }
        let ported = proto == IPProtocolNumber.tcp || proto == IPProtocolNumber.udp
            || proto == IPProtocolNumber.sctp || proto == IPProtocolNumber.dccp
        if ported {
            // Absent ports go out as 0, as the C sender reads the unset attributes.
            w.attribute(A.port, length: 4) { $0.be16(o.sourcePort ?? 0); $0.be16(o.destinationPort ?? 0) }
        }
        if proto == IPProtocolNumber.tcp && has(Bit.tcp) && has(Bit.tcpState) {
            w.attribute(A.tcpState, length: 1) { $0.u8(tcpState) }
            if options.windowTracking {
                if has(Bit.windowScaleOriginal) { w.attribute(A.tcpWscaleOrig, length: 1) { $0.u8(windowScaleOriginal) } }
                if has(Bit.windowScaleReply) { w.attribute(A.tcpWscaleRepl, length: 1) { $0.u8(windowScaleReply) } }
            }
        }
        let icmp = proto == IPProtocolNumber.icmp || proto == IPProtocolNumber.icmpv6
        if icmp, let type = o.icmpType {
            w.attribute(A.icmpType, length: 1) { $0.u8(type) }
            w.attribute(A.icmpCode, length: 1) { $0.u8(o.icmpCode ?? 0) }
            w.attribute(A.icmpID, length: 2) { $0.le16(o.icmpID ?? 0) }
        }
        if options.includeTimeout && has(Bit.timeout) { w.attribute(A.timeout, length: 4) { $0.be32(timeout) } }
        if has(Bit.mark) { w.attribute(A.mark, length: 4) { $0.be32(mark) } }

        // NAT as the reply tuple shows it (SyncedFlow.applyNAT); without a status the
        // NAT is taken as done.
        let sourceDone = !has(Bit.status) || status & FlowStatus.sourceNATDone.rawValue != 0
        let destinationDone = !has(Bit.status) || status & FlowStatus.destinationNATDone.rawValue != 0
        if sourceDone && r.destination != o.source { w.attribute(A.snatIPv4, length: 4) { $0.be32(r.destination) } }
        if destinationDone && r.source != o.destination { w.attribute(A.dnatIPv4, length: 4) { $0.be32(r.source) } }
        if icmp {
            if sourceDone && (o.icmpID ?? 0) != Self.icmpTypeCode(r) { w.attribute(A.spatPort, length: 2) { $0.le16(0) } }
            if destinationDone && Self.icmpTypeCode(o) != (r.icmpID ?? 0) { w.attribute(A.dpatPort, length: 2) { $0.le16(0) } }
        } else if ported {
            if sourceDone, let rd = r.destinationPort, rd != (o.sourcePort ?? 0) { w.attribute(A.spatPort, length: 2) { $0.le16(rd) } }
            if destinationDone, let rs = r.sourcePort, rs != (o.destinationPort ?? 0) { w.attribute(A.dpatPort, length: 2) { $0.le16(rs) } }
        }
        if has(Bit.zeroSynproxy) { w.attribute(A.synproxy, length: 12) { $0.zeros(12) } }

        let length = w.count
        out.storeBytes(of: UInt8(length >> 8), toByteOffset: 2, as: UInt8.self)
        out.storeBytes(of: UInt8(length & 0xff), toByteOffset: 3, as: UInt8.self)
        return length
    }

    /// An ICMP tuple's type and code as one 16-bit word (absent fields as 0).
    private static func icmpTypeCode(_ t: PackedTuple) -> UInt16 {
        UInt16(t.icmpType ?? 0) << 8 | UInt16(t.icmpCode ?? 0)
    }
}

/// Stores bytes at a raw pointer the caller has sized: network order unless named `le`.
public struct RawMessageWriter {
    public let base: UnsafeMutableRawPointer
    private(set) var count = 0

    public init(base: UnsafeMutableRawPointer) { self.base = base }

    public mutating func u8(_ v: UInt8) {
        base.storeBytes(of: v, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    public mutating func be16(_ v: UInt16) { u8(UInt8(v >> 8)); u8(UInt8(v & 0xff)) }
    public mutating func le16(_ v: UInt16) { u8(UInt8(v & 0xff)); u8(UInt8(v >> 8)) }
    public mutating func be32(_ v: UInt32) { be16(UInt16(v >> 16)); be16(UInt16(v & 0xffff)) }
    public mutating func zeros(_ n: Int) { for _ in 0 ..< n { u8(0) } }

    /// A TLV of `length` value bytes (written by `value`), padded to 4 bytes.
    public mutating func attribute(_ type: UInt16, length: Int, _ value: (inout RawMessageWriter) -> Void) {
        be16(UInt16(4 + length))
        be16(type)
        value(&self)
        zeros((4 - length & 3) & 3)
    }
}

extension CompactFlow {
    /// The message conntrackd would send for the flow; for packed flows straight from the
    /// packed fields (the sender's hottest path), equal to `SyncedFlow(flow: flow)`.
    public func synced(options: SyncSenderOptions) -> SyncedFlow {
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
}
