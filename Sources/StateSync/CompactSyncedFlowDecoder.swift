import Conntrack
import IPAddressing

/// The receiver's hot path: a flow state message's payload read straight into the
/// external cache's packed form, without a `SyncedFlow` (some 300 bytes, copied through
/// several layers per message).
///
/// It accepts only payloads whose every attribute is one the packed form holds (IPv4
/// addresses, protocol, ports or ICMP identity, TCP state, status, timeout, mark, an
/// all-zero SYNPROXY) with the exact size conntrackd's reader demands, and with the
/// original tuple complete. Anything else answers nil and the message takes the general
/// decoder, which also judges and counts malformed payloads. So an accepted payload is
/// always one `SyncedFlowCodec.decode` accepts, and the result is what
/// `CompactSyncedFlow(decode(…))` would hold.
extension CompactSyncedFlow.Packed {
    private typealias A = SyncAttribute.Flow

    public init?(payload p: UnsafeRawBufferPointer) {
        var source: UInt32?, destination: UInt32?, proto: UInt8?, ports: UInt32?
        var icmpType: UInt8?, icmpCode: UInt8?, icmpID: UInt16?
        var tcpState: UInt8?, status: UInt32?, timeout: UInt32?, mark: UInt32?
        var synproxy = false
        var at = 0
        let end = p.count
        // conntrackd's reader: attributes while more than 4 bytes remain.
        while end - at > 4 {
            let length = Int(Self.be16(p, at))
            let type = Self.be16(p, at + 2)
            guard length <= end - at else { return nil }
            let v = at + 4
            switch (type, length) {
            case (A.ipv4, 12): source = Self.be32(p, v); destination = Self.be32(p, v + 4)
            case (A.l4proto, 5): proto = p[v]
            case (A.port, 8): ports = Self.be32(p, v)
            case (A.tcpState, 5): tcpState = p[v]
            case (A.status, 8): status = Self.be32(p, v)
            case (A.timeout, 8): timeout = Self.be32(p, v)
            case (A.mark, 8): mark = Self.be32(p, v)
            case (A.icmpType, 5): icmpType = p[v]
            case (A.icmpCode, 5): icmpCode = p[v]
            case (A.icmpID, 6): icmpID = UInt16(p[v]) | UInt16(p[v + 1]) << 8
            case (A.synproxy, 16):
                guard Self.be32(p, v) == 0, Self.be32(p, v + 4) == 0, Self.be32(p, v + 8) == 0 else { return nil }
                synproxy = true
            default:
                return nil
            }
            at += (length + 3) & ~3
        }
        let icmp = icmpType != nil || icmpCode != nil || icmpID != nil
        guard let source, let destination, let proto, !(icmp && ports != nil) else { return nil }
        self.source = source
        self.destination = destination
        protocolNumber = proto
        present |= Bit.protocolNumber
        if let ports { layer4 = ports; present |= Bit.ports }
        if let v = icmpType { layer4 |= UInt32(v) << 24; present |= Bit.icmpType }
        if let v = icmpCode { layer4 |= UInt32(v) << 16; present |= Bit.icmpCode }
        if let v = icmpID { layer4 |= UInt32(v); present |= Bit.icmpID }
        if let v = tcpState { self.tcpState = v; present |= Bit.tcpState }
        if let v = status { self.status = v; present |= Bit.status }
        if let v = timeout { self.timeout = v; present |= Bit.timeout }
        if let v = mark { self.mark = v; present |= Bit.mark }
        if synproxy { present |= Bit.zeroSynproxy }
    }

    /// The original tuple as `SyncedFlow.originalTuple` reads it from the message:
    /// ports unless the protocol is ICMP, the ICMP identity when a type or id came.
    public var originalTuple: PackedTuple? {
        let isICMP = protocolNumber == IPProtocolNumber.icmp || protocolNumber == IPProtocolNumber.icmpv6
        let withPorts = has(Bit.ports) && !isICMP
        let withICMP = has(Bit.icmpType) || has(Bit.icmpID)
        return PackedTuple(source: source, destination: destination, protocolNumber: protocolNumber,
                           sourcePort: withPorts ? UInt16(truncatingIfNeeded: layer4 >> 16) : nil,
                           destinationPort: withPorts ? UInt16(truncatingIfNeeded: layer4) : nil,
                           icmpType: withICMP && has(Bit.icmpType) ? UInt8(truncatingIfNeeded: layer4 >> 24) : nil,
                           icmpCode: withICMP && has(Bit.icmpCode) ? UInt8(truncatingIfNeeded: layer4 >> 16) : nil,
                           icmpID: withICMP && has(Bit.icmpID) ? UInt16(truncatingIfNeeded: layer4) : nil)
    }

    private static func be16(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt16 { UInt16(p[o]) << 8 | UInt16(p[o + 1]) }
    private static func be32(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt32 { UInt32(be16(p, o)) << 16 | UInt32(be16(p, o + 2)) }
}
