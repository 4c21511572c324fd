import IPAddressing

/// A VRRP advertisement (RFC 3768 v2, RFC 5798 v3), as keepalived sends it.
public struct Advertisement: Hashable, Sendable {
    public enum Version: UInt8, Sendable { case v2 = 2, v3 = 3 }

    public static let protocolNumber: UInt8 = 112
    public static let groupV4 = IPAddress("224.0.0.18")!
    public static let groupV6 = IPAddress("ff02::12")!

    public var version: Version
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// v2: whole seconds; v3: centiseconds (12 bits).
    public var interval: UInt16
    public var addresses: [IPAddress]
    /// v2 only: 0 none, 1 simple password, 2 AH.
    public var authenticationType: UInt8
    /// v2 only: the 8 bytes after the addresses (the NUL-padded password for type 1).
    public var authenticationData: [UInt8]

    public init(version: Version, virtualRouterID: UInt8, priority: UInt8, interval: UInt16, addresses: [IPAddress],
                authenticationType: UInt8 = 0, authenticationData: [UInt8] = [UInt8](repeating: 0, count: 8)) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.interval = interval
        self.addresses = addresses
        self.authenticationType = authenticationType
        self.authenticationData = authenticationData
    }

    /// A v2 advertisement with a simple password (truncated / NUL-padded to 8 bytes).
    public static func passwordData(_ password: String) -> [UInt8] {
        var bytes = Array(password.utf8.prefix(8))
        while bytes.count < 8 { bytes.append(0) }
        return bytes
    }

    /// The VRRP message with its checksum. v3 needs the IP source and destination for
    /// the pseudo-header (for unicast: the real destination, as keepalived ≥ 1.3.7).
    public func encode(source: IPAddress, destination: IPAddress) -> [UInt8] {
        var out: [UInt8] = [version.rawValue << 4 | 1, virtualRouterID, priority, UInt8(truncatingIfNeeded: addresses.count)]
        switch version {
        case .v2:
            out += [authenticationType, UInt8(truncatingIfNeeded: interval), 0, 0]
        case .v3:
            out += [UInt8((interval >> 8) & 0x0f), UInt8(interval & 0xff), 0, 0]
        }
        for a in addresses { a.append(to: &out) }
        if version == .v2 { out += authenticationData.prefix(8) + [UInt8](repeating: 0, count: max(0, 8 - authenticationData.count)) }
        let sum = Self.checksum(out, version: version, source: source, destination: destination)
        out[6] = UInt8(sum >> 8)
        out[7] = UInt8(sum & 0xff)
        return out
    }

    static func checksum(_ message: [UInt8], version: Version, source: IPAddress, destination: IPAddress) -> UInt16 {
        var c = InternetChecksum()
        if version == .v3 {
            switch (source, destination) {
            case (.v4, .v4):
                c.add(source.bytes); c.add(destination.bytes)
                c.add([0, Self.protocolNumber, UInt8(message.count >> 8), UInt8(message.count & 0xff)])
            default:
                c.add(source.bytes); c.add(destination.bytes)
                c.add([0, 0, UInt8(message.count >> 8), UInt8(message.count & 0xff), 0, 0, 0, Self.protocolNumber])
            }
        }
        var zeroed = message
        zeroed[6] = 0
        zeroed[7] = 0
        c.add(zeroed)
        return c.value
    }

    /// Parses and checks a VRRP message: version, type, length against the address
    /// count, and checksum (keepalived's receive checks that need no configuration).
    public static func decode(_ bytes: [UInt8], family: UInt8, source: IPAddress, destination: IPAddress) throws(VRRPPacketError) -> Advertisement {
        guard bytes.count >= 8 else { throw .tooShort(bytes.count) }
        guard let version = Version(rawValue: bytes[0] >> 4) else { throw .unsupportedVersion(bytes[0] >> 4) }
        guard bytes[0] & 0x0f == 1 else { throw .notAnAdvertisement(bytes[0] & 0x0f) }
        let count = Int(bytes[3])
        let addressSize = family == AddressFamily.inet6 ? 16 : 4
        if version == .v2 && family == AddressFamily.inet6 { throw .unsupportedVersion(2) }
        let expected = 8 + count * addressSize + (version == .v2 ? 8 : 0)
        guard bytes.count >= expected else { throw .lengthMismatch(count: count, length: bytes.count) }
        // Trailing bytes (Ethernet padding) beyond the message are not part of it.
        let message = Array(bytes[0..<expected])
        let sum = UInt16(message[6]) << 8 | UInt16(message[7])
        let computed = checksum(message, version: version, source: source, destination: destination)
        guard sum == computed else { throw .badChecksum(received: sum, computed: computed) }
        var addresses: [IPAddress] = []
        for i in 0..<count {
            let start = 8 + i * addressSize
            addresses.append(IPAddress(bytes: message[start..<(start + addressSize)])!)
        }
        switch version {
        case .v2:
            return Advertisement(version: .v2, virtualRouterID: message[1], priority: message[2], interval: UInt16(message[5]),
                                 addresses: addresses, authenticationType: message[4],
                                 authenticationData: Array(message[(expected - 8)..<expected]))
        case .v3:
            return Advertisement(version: .v3, virtualRouterID: message[1], priority: message[2],
                                 interval: UInt16(message[4] & 0x0f) << 8 | UInt16(message[5]), addresses: addresses,
                                 authenticationType: 0, authenticationData: [])
        }
    }
}

/// Why a received VRRP packet was rejected; each has its own counter.
public enum VRRPPacketError: Error, Hashable, Sendable {
    case tooShort(Int)
    case unsupportedVersion(UInt8)
    case notAnAdvertisement(UInt8)
    case lengthMismatch(count: Int, length: Int)
    case badChecksum(received: UInt16, computed: UInt16)
    case badIPHeader(String)
    case wrongTTL(UInt8)
    case notVRRP(UInt8)
}
