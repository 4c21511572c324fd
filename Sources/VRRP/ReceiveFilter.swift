import Conntrack

/// keepalived's receive checks for one instance (spec §2.8), as a pure function with a
/// counter per rejection reason. Rejected adverts count as not received.
public struct ReceiveFilter: Sendable {
    public enum Rejection: String, Hashable, Sendable, CaseIterable {
        case malformed          // IP header, version, type, length, checksum
        case wrongTTL
        case unknownVRID
        case authTypeMismatch
        case authFailure        // wrong password
        case addressMismatch    // VIP count or list differs
        case intervalMismatch   // v2: advert interval differs
        case ownPacket
    }

    public var virtualRouterID: UInt8
    public var version: Advertisement.Version
    /// The 8-byte PASS data, or nil without authentication.
    public var password: [UInt8]?
    public var addresses: [IPAddress]
    /// v2 interval in seconds (v2 adverts with another interval are discarded).
    public var intervalSeconds: UInt16
    public var unicast: Bool
    public var ownAddress: IPAddress
    public private(set) var counters: [Rejection: Int] = [:]

    public init(virtualRouterID: UInt8, version: Advertisement.Version, password: [UInt8]?, addresses: [IPAddress],
                intervalSeconds: UInt16, unicast: Bool, ownAddress: IPAddress) {
        self.virtualRouterID = virtualRouterID
        self.version = version
        self.password = password
        self.addresses = addresses
        self.intervalSeconds = intervalSeconds
        self.unicast = unicast
        self.ownAddress = ownAddress
    }

    /// The advert and its sender, or nil (and a counter) when keepalived would drop it.
    public mutating func accept(_ packet: IPPacket) -> Advertisement? {
        func reject(_ r: Rejection) -> Advertisement? { counters[r, default: 0] += 1; return nil }
        if packet.source == ownAddress { return reject(.ownPacket) }
        let advert: Advertisement
        do {
            advert = try packet.advertisement(requireTTL255: !unicast)
        } catch .wrongTTL {
            return reject(.wrongTTL)
        } catch {
            return reject(.malformed)
        }
        if advert.virtualRouterID != virtualRouterID { return reject(.unknownVRID) }
        if version == .v2 {
            let expectedType: UInt8 = password == nil ? 0 : 1
            if advert.authenticationType != expectedType { return reject(.authTypeMismatch) }
            if let password, advert.authenticationData != password { return reject(.authFailure) }
            if advert.interval != intervalSeconds { return reject(.intervalMismatch) }
        }
        if Set(advert.addresses) != Set(addresses) || advert.addresses.count != addresses.count { return reject(.addressMismatch) }
        return advert
    }
}
