import IPAddressing


/// An IPv4 tuple without a zone in 16 bytes instead of `Tuple`'s 50-odd: the caches hold
/// one or two per flow, and at 100k+ flows their size decides the daemon's memory and
/// how much a hash-table resize has to move. Every optional layer-4 field keeps its
/// presence, so `tuple` gives back exactly the tuple that was packed.
public struct PackedTuple: Hashable, Sendable {
    public var source: UInt32
    public var destination: UInt32
    /// Ports as source << 16 | destination, or ICMP type << 24 | code << 16 | id.
    public var layer4: UInt32
    public var protocolNumber: UInt8
    /// Which layer-4 fields are present (the `Field` bits).
    public var fields: UInt8

    public enum Field {
        public static let sourcePort: UInt8 = 1, destinationPort: UInt8 = 2
        public static let icmpType: UInt8 = 4, icmpCode: UInt8 = 8, icmpID: UInt8 = 16
        public static let ports: UInt8 = 3, icmp: UInt8 = 28
    }

    /// nil when the tuple needs the general form: IPv6, a zone, or both ports and ICMP
    /// fields (which share `layer4`).
    public init?(_ t: Tuple) {
        guard t.zone == nil, case .v4(let s) = t.source, case .v4(let d) = t.destination else { return nil }
        self.init(source: s, destination: d, protocolNumber: t.protocolNumber, sourcePort: t.sourcePort,
                  destinationPort: t.destinationPort, icmpType: t.icmpType, icmpCode: t.icmpCode, icmpID: t.icmpID)
    }

    /// From an IPv4 tuple's fields, as the kernel-event decoder reads them.
    public init?(source: UInt32, destination: UInt32, protocolNumber: UInt8, sourcePort: UInt16?, destinationPort: UInt16?,
          icmpType: UInt8?, icmpCode: UInt8?, icmpID: UInt16?) {
        var fields: UInt8 = 0
        var l4: UInt32 = 0
        if let p = sourcePort { fields |= Field.sourcePort; l4 |= UInt32(p) << 16 }
        if let p = destinationPort { fields |= Field.destinationPort; l4 |= UInt32(p) }
        if icmpType != nil || icmpCode != nil || icmpID != nil {
            guard fields == 0 else { return nil }
            if let v = icmpType { fields |= Field.icmpType; l4 |= UInt32(v) << 24 }
            if let v = icmpCode { fields |= Field.icmpCode; l4 |= UInt32(v) << 16 }
            if let v = icmpID { fields |= Field.icmpID; l4 |= UInt32(v) }
        }
        self.source = source
        self.destination = destination
        layer4 = l4
        self.protocolNumber = protocolNumber
        self.fields = fields
    }

    public var sourcePort: UInt16? { fields & Field.sourcePort != 0 ? UInt16(truncatingIfNeeded: layer4 >> 16) : nil }
    public var destinationPort: UInt16? { fields & Field.destinationPort != 0 ? UInt16(truncatingIfNeeded: layer4) : nil }
    public var icmpType: UInt8? { fields & Field.icmpType != 0 ? UInt8(truncatingIfNeeded: layer4 >> 24) : nil }
    public var icmpCode: UInt8? { fields & Field.icmpCode != 0 ? UInt8(truncatingIfNeeded: layer4 >> 16) : nil }
    public var icmpID: UInt16? { fields & Field.icmpID != 0 ? UInt16(truncatingIfNeeded: layer4) : nil }

    public var tuple: Tuple {
        var t = Tuple(source: .v4(source), destination: .v4(destination), protocolNumber: protocolNumber)
        t.sourcePort = sourcePort
        t.destinationPort = destinationPort
        t.icmpType = icmpType
        t.icmpCode = icmpCode
        t.icmpID = icmpID
        return t
    }

    /// Two words instead of five fields: hashing is a measurable share of each event.
    public func hash(into h: inout Hasher) {
        h.combine(UInt64(source) << 32 | UInt64(destination))
        h.combine(UInt64(layer4) << 16 | UInt64(protocolNumber) << 8 | UInt64(fields))
    }
}

extension PackedTuple {
    /// `Tuple.inverted` on the packed bits: the reply direction a commit gives the kernel
    /// for a flow without NAT, made without unpacking the tuple.
    public var inverted: PackedTuple {
        var t = self
        t.source = destination
        t.destination = source
        if fields & Field.ports != 0 {
            // Each port moves to the other half, and so does its presence bit.
            let sourceBit = fields & Field.sourcePort, destinationBit = fields & Field.destinationPort
            t.fields = (fields & ~Field.ports) | (sourceBit << 1) | (destinationBit >> 1)
            t.layer4 = (layer4 << 16) | (layer4 >> 16)
        } else if fields & Field.icmpType != 0 {
            let type = UInt8(truncatingIfNeeded: layer4 >> 24)
            let mapped = Tuple.invertedICMPType(type, v6: protocolNumber == IPProtocolNumber.icmpv6) ?? type
            t.layer4 = (layer4 & 0x00FF_FFFF) | UInt32(mapped) << 24
        }
        return t
    }
}
