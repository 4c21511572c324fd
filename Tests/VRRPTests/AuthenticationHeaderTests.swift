import TestSupport
import Testing
import VRRP
import IPAddressing

/// keepalived's VRRPv2 AH authentication against its capture (vector V8).
@Suite struct AuthenticationHeaderTests {
    static let key = Advertisement.passwordData("ahpass")
    static func hex(_ s: String) -> [UInt8] { AdvertisementTests.hex(s) }

    @Test func sealReproducesKeepalivedsPacket() throws {
        let frame = AdvertisementTests.frame("V8")
        let captured = try IPPacket.frame(frame)
        #expect(captured.protocolNumber == 51)
        let advert = Advertisement(version: .v2, virtualRouterID: 41, priority: 100, interval: 1, addresses: [IPAddress("10.0.0.41")!],
                                   authenticationType: 2)
        let vrrp = advert.encode(source: captured.source, destination: captured.destination)
        var sealed = AuthenticationHeader.seal(vrrp: vrrp, source: captured.source, destination: captured.destination, ttl: 255,
                                               identification: 1, sequence: 1, key: Self.key)
        // The kernel fills the header checksum of an IP_HDRINCL packet.
        sealed[10] = frame[24]; sealed[11] = frame[25]
        #expect(sealed == Array(frame[14...]))
    }

    @Test func openVerifiesAndRejectsTampering() throws {
        let packet = try IPPacket.frame(AdvertisementTests.frame("V8"))
        let opened = try AuthenticationHeader.open(packet, key: Self.key)
        #expect(opened.sequence == 1 && opened.vrrp.count == 20 && opened.vrrp[1] == 41)
        #expect(throws: AuthenticationHeader.Failure.badICV) { try AuthenticationHeader.open(packet, key: Advertisement.passwordData("other")) }
        var tampered = packet
        tampered.payload[24 + 2] = 200   // the priority
        #expect(throws: AuthenticationHeader.Failure.badICV) { try AuthenticationHeader.open(tampered, key: Self.key) }
        var spi = packet
        spi.payload[7] ^= 1
        #expect(throws: AuthenticationHeader.Failure.spiMismatch) { try AuthenticationHeader.open(spi, key: Self.key) }
        var short = packet
        short.payload = Array(short.payload.prefix(10))
        #expect(throws: AuthenticationHeader.Failure.malformed) { try AuthenticationHeader.open(short, key: Self.key) }
    }

    static func filter(key: [UInt8] = key) -> ReceiveFilter {
        var f = ReceiveFilter(virtualRouterID: 41, version: .v2, password: key, addresses: [IPAddress("10.0.0.41")!], intervalSeconds: 1,
                              unicast: false, ownAddress: IPAddress("10.0.0.2")!)
        f.authenticationHeader = true
        return f
    }

    @Test func receiveFilterCountsFailuresAndReplays() throws {
        let packet = try IPPacket.frame(AdvertisementTests.frame("V8"))
        var f = Self.filter()
        #expect(f.accept(packet)?.priority == 100)
        #expect(f.sequence == 1)
        #expect(f.accept(packet) == nil)
        #expect(f.counters[.authReplay] == 1)
        // A sender continuing from the sequence it heard is accepted by its old peer.
        #expect(f.nextSequence() == 2)
        var wrong = Self.filter(key: Advertisement.passwordData("nope"))
        #expect(wrong.accept(packet) == nil && wrong.counters[.authFailure] == 1)
        // A PASS advert for an AH instance, and AH for a PASS instance: type mismatch.
        let pass = try IPPacket.frame(AdvertisementTests.frame("V1"))
        var ah = Self.filter()
        ah.virtualRouterID = 11
        #expect(ah.accept(pass) == nil && ah.counters[.authTypeMismatch] == 1)
        var plain = ReceiveFilter(virtualRouterID: 41, version: .v2, password: Self.key, addresses: [IPAddress("10.0.0.41")!],
                                  intervalSeconds: 1, unicast: false, ownAddress: IPAddress("10.0.0.2")!)
        #expect(plain.accept(packet) == nil && plain.counters[.authTypeMismatch] == 1)
    }
}
