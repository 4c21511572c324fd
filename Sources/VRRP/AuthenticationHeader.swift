import Crypto
import IPAddressing

/// keepalived's IPsec-AH authentication for VRRPv2 over IPv4 (spec §1.6, vector V8): an
/// RFC 2402 header between the IPv4 header (protocol 51) and the VRRP message, with the
/// sender's address as SPI, a sequence number, and an HMAC-MD5-96 over the packet with
/// the fields that change in transit zeroed. Only keepalived speaks it.
public enum AuthenticationHeader {
    public static let protocolNumber: UInt8 = 51
    public static let length = 24

    public enum Failure: Error, Hashable, Sendable {
        case malformed
        case spiMismatch
        case badICV
    }

    /// What a verified header carried.
    public struct Opened: Hashable, Sendable {
        public var sequence: UInt32
        public var vrrp: [UInt8]
    }

    /// A whole IPv4 packet for an IP_HDRINCL socket. The kernel fills the header checksum,
    /// which the ICV does not cover.
    public static func seal(vrrp: [UInt8], source: IPAddress, destination: IPAddress, ttl: UInt8, identification: UInt16,
                            sequence: UInt32, key: [UInt8]) -> [UInt8] {
        let total = 20 + length + vrrp.count
        var header: [UInt8] = [0x45, 0xc0, UInt8(total >> 8), UInt8(total & 0xff), UInt8(identification >> 8), UInt8(identification & 0xff),
                               0, 0, ttl, protocolNumber, 0, 0]
        header += source.bytes + destination.bytes
        var ah: [UInt8] = [Advertisement.protocolNumber, UInt8(length / 4 - 2), 0, 0] + source.bytes
        ah += [UInt8(sequence >> 24), UInt8((sequence >> 16) & 0xff), UInt8((sequence >> 8) & 0xff), UInt8(sequence & 0xff)]
        ah += [UInt8](repeating: 0, count: 12)
        let icv = self.icv(header: header, ah: ah, vrrp: vrrp, key: key, multicast: destination.isMulticast)
        ah.replaceSubrange(12..<24, with: icv)
        return header + ah + vrrp
    }

    /// Checks a received packet's AH (payload = AH ‖ VRRP) against `key`.
    public static func open(_ packet: IPPacket, key: [UInt8]) throws(Failure) -> Opened {
        let p = packet.payload
        guard packet.header.count >= 20, p.count >= length, p[0] == Advertisement.protocolNumber, p[1] == UInt8(length / 4 - 2) else {
            throw .malformed
        }
        guard Array(p[4..<8]) == packet.source.bytes else { throw .spiMismatch }
        var ah = Array(p[0..<length])
        let received = Array(ah[12..<24])
        ah.replaceSubrange(12..<24, with: [UInt8](repeating: 0, count: 12))
        let vrrp = Array(p[length...])
        let expected = icv(header: Array(packet.header[0..<20]), ah: ah, vrrp: vrrp, key: key, multicast: packet.destination.isMulticast)
        guard ReceiveFilter.constantTimeEqual(received, expected) else { throw .badICV }
        let sequence = UInt32(p[8]) << 24 | UInt32(p[9]) << 16 | UInt32(p[10]) << 8 | UInt32(p[11])
        return Opened(sequence: sequence, vrrp: vrrp)
    }

    /// HMAC-MD5-96 with TOS, fragment field and header checksum zeroed (and the TTL too
    /// when unicasting, since routers on the way may lower it), as keepalived computes it.
    static func icv(header: [UInt8], ah: [UInt8], vrrp: [UInt8], key: [UInt8], multicast: Bool) -> [UInt8] {
        var h = header
        h[1] = 0
        h[6] = 0; h[7] = 0
        h[10] = 0; h[11] = 0
        if !multicast { h[8] = 0 }
        let mac = HMAC<Insecure.MD5>.authenticationCode(for: h + ah + vrrp, using: SymmetricKey(data: key))
        return Array(Array(mac).prefix(12))
    }
}
