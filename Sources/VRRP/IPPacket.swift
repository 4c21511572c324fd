import IPAddressing

/// The IP header fields VRRP reception needs, from a raw IPv4 socket (which delivers
/// the header) or a captured frame.
public struct IPPacket: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var ttl: UInt8
    public var protocolNumber: UInt8
    public var payload: [UInt8]
    /// The IPv4 header as received (AH's ICV covers it); empty for IPv6.
    public var header: [UInt8]

    public init(source: IPAddress, destination: IPAddress, ttl: UInt8, protocolNumber: UInt8 = Advertisement.protocolNumber, payload: [UInt8],
                header: [UInt8] = []) {
        self.source = source
        self.destination = destination
        self.ttl = ttl
        self.protocolNumber = protocolNumber
        self.payload = payload
        self.header = header
    }

    /// An IPv4 packet; the total length field, not the buffer, bounds the payload.
    public static func ipv4(_ b: [UInt8]) throws(VRRPPacketError) -> IPPacket {
        guard b.count >= 20, b[0] >> 4 == 4 else { throw .badIPHeader("not an IPv4 header") }
        let ihl = Int(b[0] & 0x0f) * 4
        let total = Int(b[2]) << 8 | Int(b[3])
        guard ihl >= 20, total >= ihl, total <= b.count else { throw .badIPHeader("bad lengths") }
        guard InternetChecksum.of(b[0..<ihl]) == 0 else { throw .badIPHeader("bad header checksum") }
        return IPPacket(source: IPAddress(bytes: b[12..<16])!, destination: IPAddress(bytes: b[16..<20])!,
                        ttl: b[8], protocolNumber: b[9], payload: Array(b[ihl..<total]), header: Array(b[0..<ihl]))
    }

    /// An IPv6 packet without extension headers.
    public static func ipv6(_ b: [UInt8]) throws(VRRPPacketError) -> IPPacket {
        guard b.count >= 40, b[0] >> 4 == 6 else { throw .badIPHeader("not an IPv6 header") }
        let length = Int(b[4]) << 8 | Int(b[5])
        guard 40 + length <= b.count else { throw .badIPHeader("bad payload length") }
        return IPPacket(source: IPAddress(bytes: b[8..<24])!, destination: IPAddress(bytes: b[24..<40])!,
                        ttl: b[7], protocolNumber: b[6], payload: Array(b[40..<(40 + length)]))
    }

    /// The VRRP message: the payload, less keepalived's AH header when there is one.
    public var vrrpMessage: [UInt8] {
        protocolNumber == AuthenticationHeader.protocolNumber ? Array(payload.dropFirst(AuthenticationHeader.length)) : payload
    }

    /// From an Ethernet frame (captures).
    public static func frame(_ f: [UInt8]) throws(VRRPPacketError) -> IPPacket {
        guard f.count > 14 else { throw .badIPHeader("short frame") }
        let type = UInt16(f[12]) << 8 | UInt16(f[13])
        let rest = Array(f[14...])
        switch type {
        case 0x0800: return try ipv4(rest)
        case 0x86dd: return try ipv6(rest)
        default: throw .badIPHeader("ethertype \(String(type, radix: 16))")
        }
    }

    /// VRRP over this packet, with the receive checks that need no configuration:
    /// protocol 112, TTL/hop limit 255 (skipped in unicast mode, as keepalived).
    public func advertisement(requireTTL255: Bool = true) throws(VRRPPacketError) -> Advertisement {
        guard protocolNumber == Advertisement.protocolNumber else { throw .notVRRP(protocolNumber) }
        if requireTTL255 && ttl != 255 { throw .wrongTTL(ttl) }
        return try Advertisement.decode(payload, family: source.family, source: source, destination: destination)
    }
}

/// The gratuitous ARP keepalived sends for an IPv4 VIP: a broadcast request with sender
/// and target IP both the VIP and an all-ones target hardware address.
public enum GratuitousARP {
    public static func frame(mac: [UInt8], address: IPAddress) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xff, count: 6)
        var f = broadcast + mac + [0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01] + mac
        address.append(to: &f)
        f += broadcast
        address.append(to: &f)
        return f
    }
}
