import IPAddressing
/// One direction of a connection: addresses, layer-4 protocol and its identifiers.
/// Which identifiers apply depends on the protocol: ports for TCP/UDP/UDPLite/SCTP/DCCP,
/// keys for GRE (carried in the port attributes), type/code/id for ICMP and ICMPv6.
/// Absent fields stay nil so a decoded message re-encodes to the same bytes.
public struct Tuple: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var protocolNumber: UInt8
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    public var icmpID: UInt16?
    /// CTA_TUPLE_ZONE: a per-direction zone.
    public var zone: UInt16?

    public init(
        source: IPAddress, destination: IPAddress, protocolNumber: UInt8,
        sourcePort: UInt16? = nil, destinationPort: UInt16? = nil,
        icmpType: UInt8? = nil, icmpCode: UInt8? = nil, icmpID: UInt16? = nil, zone: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
        self.icmpID = icmpID
        self.zone = zone
    }

    public var family: UInt8 { source.family }

    public var isICMP: Bool {
        protocolNumber == IPProtocolNumber.icmp || protocolNumber == IPProtocolNumber.icmpv6
    }

    /// The tuple the other side sends: addresses and ports swapped, and for ICMP the
    /// reply type (echo request → echo reply, and so on).
    public var inverted: Tuple {
        var t = self
        t.source = destination
        t.destination = source
        t.sourcePort = destinationPort
        t.destinationPort = sourcePort
        if let type = icmpType {
            t.icmpType = Tuple.invertedICMPType(type, v6: protocolNumber == IPProtocolNumber.icmpv6) ?? type
        }
        return t
    }

    static func invertedICMPType(_ type: UInt8, v6: Bool) -> UInt8? {
        let pairs: [(UInt8, UInt8)] = v6
            ? [(128, 129), (129, 128), (139, 140), (140, 139)]
            : [(8, 0), (0, 8), (13, 14), (14, 13), (15, 16), (16, 15), (17, 18), (18, 17)]
        return pairs.first { $0.0 == type }?.1
    }
}
