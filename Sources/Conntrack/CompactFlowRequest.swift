import IPAddressing
import Netlink

/// A packed flow written as a ctnetlink request straight from its bits: what a commit
/// sends for each of the hundreds of thousands of plain IPv4 flows, without unpacking
/// them into a `Flow` (some 600 bytes and two `Tuple`s each) only to encode that.
/// The bytes are exactly `FlowCodec.encode(flow)`'s: the same attributes in the same
/// order, so a kernel (or a golden vector) cannot tell which path wrote them.
extension CompactFlow.Packed {
    /// Appends the nfgenmsg and the attributes, as `FlowCodec.encode(self.flow, into:)`.
    public func encodeRequest(into e: inout AttributeEncoder) {
        NetfilterHeader(family: AddressFamily.inet).encode(into: &e)
        Self.encode(original, type: CTA.tupleOrig, into: &e)
        Self.encode(reply, type: CTA.tupleReply, into: &e)
        if has(Bit.status) { e.uint32BE(CTA.status, status) }
        if has(Bit.timeout) { e.uint32BE(CTA.timeout, timeout) }
        if has(Bit.mark) { e.uint32BE(CTA.mark, mark) }
        if has(Bit.tcp) {
            e.nested(CTA.protoinfo) { n in
                n.nested(CTA.ProtoInfo.tcp) { t in
                    if has(Bit.tcpState) { t.uint8(CTA.TCP.state, tcpState) }
                    if has(Bit.windowScaleOriginal) { t.uint8(CTA.TCP.wscaleOriginal, windowScaleOriginal) }
                    if has(Bit.windowScaleReply) { t.uint8(CTA.TCP.wscaleReply, windowScaleReply) }
                    // A flags attribute is two bytes (flags, mask): one big-endian u16.
                    if has(Bit.flagsOriginal) { t.uint16BE(CTA.TCP.flagsOriginal, UInt16(tcpFlags.0) << 8 | UInt16(tcpFlags.1)) }
                    if has(Bit.flagsReply) { t.uint16BE(CTA.TCP.flagsReply, UInt16(tcpFlags.2) << 8 | UInt16(tcpFlags.3)) }
                }
            }
        }
        if has(Bit.zeroSynproxy) {
            e.nested(CTA.synproxy) { n in
                n.uint32BE(CTA.Synproxy.isn, 0)
                n.uint32BE(CTA.Synproxy.its, 0)
                n.uint32BE(CTA.Synproxy.tsoff, 0)
            }
        }
    }

    /// `FlowCodec.encodeTuple` for an IPv4 tuple without a zone: an address attribute is
    /// its four bytes in network order, which is what a big-endian u32 writes.
    private static func encode(_ t: PackedTuple, type: UInt16, into e: inout AttributeEncoder) {
        e.nested(type) { n in
            n.nested(CTA.Tuple.ip) { ip in
                ip.uint32BE(CTA.IP.v4Src, t.source)
                ip.uint32BE(CTA.IP.v4Dst, t.destination)
            }
            n.nested(CTA.Tuple.proto) { p in
                p.uint8(CTA.Proto.num, t.protocolNumber)
                if t.protocolNumber == IPProtocolNumber.icmp || t.protocolNumber == IPProtocolNumber.icmpv6 {
                    let v6 = t.protocolNumber == IPProtocolNumber.icmpv6
                    if let c = t.icmpCode { p.uint8(v6 ? CTA.Proto.icmpv6Code : CTA.Proto.icmpCode, c) }
                    if let ty = t.icmpType { p.uint8(v6 ? CTA.Proto.icmpv6Type : CTA.Proto.icmpType, ty) }
                    if let i = t.icmpID { p.uint16BE(v6 ? CTA.Proto.icmpv6ID : CTA.Proto.icmpID, i) }
                } else {
                    if let s = t.sourcePort { p.uint16BE(CTA.Proto.srcPort, s) }
                    if let d = t.destinationPort { p.uint16BE(CTA.Proto.dstPort, d) }
                }
            }
        }
    }
}
