import IPAddressing

/// keepalived's receive checks for one instance (spec §2.8), in keepalived's order, as a
/// pure function with a counter per rejection reason. Rejected adverts count as not
/// received, so a misconfigured peer still lets the down timer run (as keepalived).
public struct ReceiveFilter: Sendable {
    public enum Rejection: String, Hashable, Sendable, CaseIterable {
        case malformed          // not VRRP, bad checksum
        case length             // shorter than a header, or not the size the count implies
        case invalidType        // VRRP type other than ADVERTISEMENT
        case versionMismatch    // v2 advert for a v3 instance or the reverse
        case wrongTTL
        case unknownVRID
        case invalidAuthType    // v2 auth type outside 0–2
        case authTypeMismatch
        case authFailure        // wrong password or AH ICV
        case authReplay         // AH sequence number not above the last one accepted
        case addressMismatch    // VIP count or list differs, or unicast/multicast mix-up
        case intervalMismatch   // v2: advert interval differs
        case ownPacket
        case unlistedSource     // check_unicast_src: a unicast advert from an address not in unicast_peer
    }

    public var virtualRouterID: UInt8
    public var version: Advertisement.Version
    /// The 8-byte PASS data, or nil without authentication.
    public var password: [UInt8]?
    /// keepalived's `auth_type AH`: `password` is the HMAC key and adverts come inside AH.
    public var authenticationHeader = false
    /// AH sequence number shared by sending and receiving, as keepalived keeps one: a new
    /// master carries on above the last number it heard, so its old peer accepts it.
    public private(set) var sequence: UInt32 = 0
    public var addresses: [IPAddress]
    /// v2 interval in seconds (v2 adverts with another interval are discarded).
    public var intervalSeconds: UInt16
    public var unicast: Bool
    public var ownAddress: IPAddress
    /// check_unicast_src: the unicast peers, the only senders heard; nil hears anyone.
    public var permittedSources: Set<IPAddress>?
    /// Unicast peers' min_ttl / max_ttl: a peer's adverts arriving with another TTL are dropped.
    public var peerTTLs: [IPAddress: ClosedRange<UInt8>] = [:]
    public private(set) var counters: [Rejection: Int] = [:]
    /// Adverts that passed every check up to the address list (keepalived's "Received").
    public private(set) var received = 0
    public private(set) var priorityZeroReceived = 0
    /// Set once a unicast v3 peer proved to checksum over the group address (keepalived
    /// ≤ 1.3.6); sticky, as keepalived's auto-detection is.
    public private(set) var oldUnicastChecksum = false

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

    /// Keeps the counters of `old` (a reload keeps an instance's statistics).
    public mutating func inheritCounters(from old: ReceiveFilter) {
        counters = old.counters
        received = old.received
        priorityZeroReceived = old.priorityZeroReceived
        oldUnicastChecksum = old.oldUnicastChecksum
        sequence = old.sequence
    }

    /// The AH sequence number for the next advert sent.
    public mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        if sequence == 0 { sequence = 1 }
        return sequence
    }

    /// A packet whose IP header could not be read never reaches `accept`; it still counts.
    public mutating func countMalformed() { counters[.malformed, default: 0] += 1 }

    /// keepalived's STATS_CLEAR signal; the legacy-checksum detection is state, not a count.
    public mutating func resetCounters() {
        counters = [:]
        received = 0
        priorityZeroReceived = 0
    }

    /// The advert and its sender, or nil (and a counter) when keepalived would drop it.
    /// `checkAddresses` false (skip_check_adv_addr, an advert from the master last heard):
    /// neither the address count and list nor check_unicast_src's source list are looked at,
    /// as keepalived's vrrp_check_packet leaves them all out then.
    public mutating func accept(_ packet: IPPacket, checkAddresses: Bool = true) -> Advertisement? {
        func reject(_ r: Rejection) -> Advertisement? { counters[r, default: 0] += 1; return nil }
        if packet.source == ownAddress { return reject(.ownPacket) }
        if checkAddresses, let permitted = permittedSources, !permitted.contains(packet.source) { return reject(.unlistedSource) }
        if unicast, let range = peerTTLs[packet.source], !range.contains(packet.ttl) { return reject(.wrongTTL) }
        let inAH = packet.protocolNumber == AuthenticationHeader.protocolNumber
        guard packet.protocolNumber == Advertisement.protocolNumber || inAH else { return reject(.malformed) }
        // keepalived's step 4: AH present exactly when configured. AH exists only for
        // VRRPv2, where it is verified below; a v3 instance takes no packet in AH, whose
        // header would otherwise be stripped unverified (found by fuzzing).
        if inAH != (authenticationHeader && version == .v2) { return reject(.authTypeMismatch) }
        let p = packet.vrrpMessage
        guard p.count >= 8 else { return reject(.length) }
        if p[1] != virtualRouterID { return reject(.unknownVRID) }
        let packetVersion = p[0] >> 4
        let addressSize = packet.source.family == AddressFamily.inet6 ? 16 : 4
        // The size the packet's own count implies for this instance's version, as keepalived.
        let expected = 8 + Int(p[3]) * addressSize + (version == .v2 ? 8 : 0)
        if p.count != expected { return reject(.length) }
        if !unicast && packet.ttl != 255 { return reject(.wrongTTL) }
        if packetVersion != version.rawValue { return reject(.versionMismatch) }
        if version == .v2 {
            let authType = p[4]
            if authType > 2 { return reject(.invalidAuthType) }
            let expectedType: UInt8 = authenticationHeader ? 2 : password == nil ? 0 : 1
            if authType != expectedType { return reject(.authTypeMismatch) }
            if authenticationHeader {
                guard let opened = try? AuthenticationHeader.open(packet, key: password ?? []) else { return reject(.authFailure) }
                if opened.sequence <= sequence { return reject(.authReplay) }
                sequence = opened.sequence
            } else if let password, !Self.constantTimeEqual(Array(p[(expected - 8)..<expected]), password) {
                return reject(.authFailure)
            }
            if UInt16(p[5]) != intervalSeconds { return reject(.intervalMismatch) }
        }
        if p[0] & 0x0f != 1 { return reject(.invalidType) }
        if checkAddresses && Int(p[3]) != addresses.count { return reject(.addressMismatch) }
        var advert: Advertisement
        do {
            advert = try Advertisement.decode(p, family: packet.source.family, source: packet.source, destination: packet.destination)
        } catch {
            guard unicast, version == .v3, packet.source.family == AddressFamily.inet,
                  let old = try? Advertisement.decode(p, family: packet.source.family, source: packet.source, destination: Advertisement.groupV4)
            else { return reject(.malformed) }
            oldUnicastChecksum = true
            advert = old
        }
        if packet.destination.isMulticast == unicast { return reject(.addressMismatch) }
        received += 1
        if checkAddresses && Set(advert.addresses) != Set(addresses) { return reject(.addressMismatch) }
        if advert.priority == 0 { priorityZeroReceived += 1 }
        return advert
    }

    /// Password comparison that takes the same time wherever the first difference is.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

extension IPAddress {
    /// 224.0.0.0/4 or ff00::/8.
    public var isMulticast: Bool {
        let b = bytes
        return b.count == 4 ? b[0] & 0xf0 == 0xe0 : b.first == 0xff
    }
}
