import Conntrack
import IPAddressing

/// SyncedFlow ↔ conntrackd TLVs, in the order the C sender uses (spec §2.5).
public enum SyncedFlowCodec {
    typealias A = SyncAttribute.Flow

    public static func encode(_ f: SyncedFlow, into out: inout [UInt8]) {
        var w = SyncTLVWriter(bytes: out)
        out = []
        if let s = f.source, let d = f.destination {
            w.addresses(s.family == AddressFamily.inet ? A.ipv4 : A.ipv6, IPAddressPair(source: s, destination: d))
        }
        if let v = f.status { w.be32(A.status, v) }
        if let v = f.protocolNumber { w.u8(A.l4proto, v) }
        if let p = f.ports { w.ports(A.port, p) }
        if let v = f.tcpState { w.u8(A.tcpState, v) }
        if let v = f.windowScaleOriginal { w.u8(A.tcpWscaleOrig, v) }
        if let v = f.windowScaleReply { w.u8(A.tcpWscaleRepl, v) }
        if let v = f.sctpState { w.u8(A.sctpState, v) }
        if let v = f.sctpVtagOriginal { w.be32(A.sctpVtagOrig, v) }
        if let v = f.sctpVtagReply { w.be32(A.sctpVtagRepl, v) }
        if let v = f.dccpState { w.u8(A.dccpState, v) }
        if let v = f.dccpRole { w.u8(A.dccpRole, v) }
        if let v = f.icmpType { w.u8(A.icmpType, v) }
        if let v = f.icmpCode { w.u8(A.icmpCode, v) }
        if let v = f.icmpID { w.le16(A.icmpID, v) }
        if let v = f.timeout { w.be32(A.timeout, v) }
        if let v = f.mark { w.be32(A.mark, v) }
        if let s = f.masterSource, let d = f.masterDestination {
            w.addresses(s.family == AddressFamily.inet ? A.masterIPv4 : A.masterIPv6, IPAddressPair(source: s, destination: d))
        }
        if let v = f.masterProtocol { w.u8(A.masterL4proto, v) }
        if let p = f.masterPorts { w.ports(A.masterPort, p) }
        if let a = f.sourceNAT { w.put(a.family == AddressFamily.inet ? A.snatIPv4 : A.snatIPv6) { a.append(to: &$0) } }
        if let a = f.destinationNAT { w.put(a.family == AddressFamily.inet ? A.dnatIPv4 : A.dnatIPv6) { a.append(to: &$0) } }
        if let v = f.sourcePortNAT { w.le16(A.spatPort, v) }
        if let v = f.destinationPortNAT { w.le16(A.dpatPort, v) }
        if let s = f.sequenceAdjustment, s.count == 6 { w.put(A.natSeqAdj) { for v in s { SyncBytes.appendBE32(v, to: &$0) } } }
        if let h = f.helper { w.string(A.helperName, h) }
        if let l = f.labels { w.put(A.labels) { for v in l { SyncBytes.appendBE32(v, to: &$0) } } }
        if let s = f.synproxy {
            w.put(A.synproxy) { SyncBytes.appendBE32(s.its, to: &$0); SyncBytes.appendBE32(s.isn, to: &$0); SyncBytes.appendBE32(s.tsoff, to: &$0) }
        }
        if let z = f.zone { w.be16(A.zone, z) }
        out = w.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(SyncPayloadError) -> SyncedFlow {
        var r = SyncTLVReader(bytes: bytes, position: range.lowerBound, end: range.upperBound, sizes: A.sizes)
        var f = SyncedFlow()
        while let t = try r.next() {
            switch t.type {
            case A.ipv4: (f.source, f.destination) = r.pair(t, size: 4)
            case A.ipv6: (f.source, f.destination) = r.pair(t, size: 16)
            case A.l4proto: f.protocolNumber = r.u8(t)
            case A.port: f.ports = r.ports(t)
            case A.tcpState: f.tcpState = r.u8(t)
            case A.status: f.status = r.be32(t)
            case A.timeout: f.timeout = r.be32(t)
            case A.mark: f.mark = r.be32(t)
            case A.masterIPv4: (f.masterSource, f.masterDestination) = r.pair(t, size: 4)
            case A.masterIPv6: (f.masterSource, f.masterDestination) = r.pair(t, size: 16)
            case A.masterL4proto: f.masterProtocol = r.u8(t)
            case A.masterPort: f.masterPorts = r.ports(t)
            case A.snatIPv4: f.sourceNAT = r.address(t, offset: 0, size: 4)
            case A.dnatIPv4: f.destinationNAT = r.address(t, offset: 0, size: 4)
            case A.snatIPv6: f.sourceNAT = r.address(t, offset: 0, size: 16)
            case A.dnatIPv6: f.destinationNAT = r.address(t, offset: 0, size: 16)
            case A.spatPort: f.sourcePortNAT = r.le16(t)
            case A.dpatPort: f.destinationPortNAT = r.le16(t)
            case A.natSeqAdj: f.sequenceAdjustment = (0..<6).map { r.be32(t, word: $0) }
            case A.sctpState: f.sctpState = r.u8(t)
            case A.sctpVtagOrig: f.sctpVtagOriginal = r.be32(t)
            case A.sctpVtagRepl: f.sctpVtagReply = r.be32(t)
            case A.dccpState: f.dccpState = r.u8(t)
            case A.dccpRole: f.dccpRole = r.u8(t)
            case A.icmpType: f.icmpType = r.u8(t)
            case A.icmpCode: f.icmpCode = r.u8(t)
            case A.icmpID: f.icmpID = r.le16(t)
            case A.tcpWscaleOrig: f.windowScaleOriginal = r.u8(t)
            case A.tcpWscaleRepl: f.windowScaleReply = r.u8(t)
            case A.helperName: f.helper = try r.string(t)
            case A.labels:
                // A length that is not whole words is ignored, as the C receiver does.
                if t.value.count % 4 == 0 { f.labels = (0..<(t.value.count / 4)).map { r.be32(t, word: $0) } }
            case A.synproxy: f.synproxy = SyncSynproxy(its: r.be32(t, word: 0), isn: r.be32(t, word: 1), tsoff: r.be32(t, word: 2))
            case A.zone: f.zone = r.be16(t)
            default: throw .unknownAttribute(type: t.type)
            }
        }
        return f
    }
}
