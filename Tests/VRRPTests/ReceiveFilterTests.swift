import TestSupport
import Testing
import VRRP
import IPAddressing

/// keepalived's receive checks, each rejection counted (spec §2.8; vectors/vrrp-packets.md).
@Suite struct ReceiveFilterTests {
    static let a = IPAddress("10.0.0.1")!
    static let b = IPAddress("10.0.0.2")!
    static let vip = IPAddress("10.0.0.3")!

    static func filter(unicast: Bool = false) -> ReceiveFilter {
        ReceiveFilter(virtualRouterID: 11, version: .v2, password: Advertisement.passwordData("1111"), addresses: [vip],
                      intervalSeconds: 1, unicast: unicast, ownAddress: a)
    }

    static func packet(vrid: UInt8 = 11, password: String? = "1111", addresses: [IPAddress] = [vip], interval: UInt16 = 1,
                       ttl: UInt8 = 255, from source: IPAddress = b, to destination: IPAddress = Advertisement.groupV4) -> IPPacket {
        let advert = Advertisement(version: .v2, virtualRouterID: vrid, priority: 40, interval: interval, addresses: addresses,
                                   authenticationType: password == nil ? 0 : 1,
                                   authenticationData: password.map(Advertisement.passwordData) ?? [UInt8](repeating: 0, count: 8))
        return IPPacket(source: source, destination: destination, ttl: ttl,
                        payload: advert.encode(source: source, destination: destination))
    }

    @Test func capturedAdvertIsAccepted() throws {
        let frame = SharedVectors.hexSections(SharedVectors.sharedDirectory + "/vectors/vrrp-packets.md").first { $0.id == "V1" }!.bytes
        var f = ReceiveFilter(virtualRouterID: 11, version: .v2, password: Advertisement.passwordData("1111"), addresses: [Self.vip],
                              intervalSeconds: 1, unicast: false, ownAddress: Self.b)
        #expect(f.accept(try IPPacket.frame(frame))?.priority == 50)
        #expect(f.counters.isEmpty)
    }

    @Test func everyRejectionHasItsCounter() {
        var f = Self.filter()
        #expect(f.accept(Self.packet()) != nil)
        #expect(f.accept(Self.packet(password: "2222")) == nil)
        #expect(f.accept(Self.packet(password: nil)) == nil)
        #expect(f.accept(Self.packet(vrid: 12)) == nil)
        #expect(f.accept(Self.packet(addresses: [Self.vip, IPAddress("10.0.0.5")!])) == nil)
        #expect(f.accept(Self.packet(interval: 2)) == nil)
        #expect(f.accept(Self.packet(ttl: 64)) == nil)
        #expect(f.accept(Self.packet(from: Self.a)) == nil)
        var corrupt = Self.packet()
        corrupt.payload[7] ^= 0xff
        #expect(f.accept(corrupt) == nil)
        #expect(f.counters == [.authFailure: 1, .authTypeMismatch: 1, .unknownVRID: 1, .addressMismatch: 1,
                               .intervalMismatch: 1, .wrongTTL: 1, .ownPacket: 1, .malformed: 1])
    }

    /// skip_check_adv_addr's path: without the address checks another count or list, and a
    /// source check_unicast_src does not list, pass; the other checks still hold.
    @Test func withoutTheAddressChecksOtherAddressListsPass() {
        var f = Self.filter(unicast: true)
        f.permittedSources = [IPAddress("10.0.0.9")!]
        let two = Self.packet(addresses: [Self.vip, IPAddress("10.0.0.5")!], to: Self.a)
        let other = Self.packet(addresses: [IPAddress("10.0.0.6")!], to: Self.a)
        #expect(f.accept(two, checkAddresses: false) != nil && f.accept(other, checkAddresses: false) != nil)
        #expect(f.accept(Self.packet(password: "2222", to: Self.a), checkAddresses: false) == nil)
        #expect(f.counters == [.authFailure: 1])
        // The control: checked, each is refused.
        #expect(f.accept(two) == nil && f.accept(other) == nil)
        #expect(f.counters == [.authFailure: 1, .unlistedSource: 2])
        f.permittedSources = nil
        #expect(f.accept(two) == nil && f.accept(other) == nil)
        #expect(f.counters == [.authFailure: 1, .unlistedSource: 2, .addressMismatch: 2])
    }

    @Test func unicastSkipsTheTTLCheck() {
        var f = Self.filter(unicast: true)
        #expect(f.accept(Self.packet(ttl: 64, to: Self.a)) != nil)
        // A unicast instance refuses multicast adverts, as keepalived does.
        #expect(f.accept(Self.packet()) == nil)
        #expect(f.counters == [.addressMismatch: 1])
    }

    @Test func receivedAndPriorityZeroAreCounted() {
        var f = Self.filter()
        var zero = Self.packet()
        zero.payload[2] = 0
        zero = IPPacket(source: Self.b, destination: Advertisement.groupV4, ttl: 255, payload: Advertisement(
            version: .v2, virtualRouterID: 11, priority: 0, interval: 1, addresses: [Self.vip], authenticationType: 1,
            authenticationData: Advertisement.passwordData("1111")).encode(source: Self.b, destination: Advertisement.groupV4))
        #expect(f.accept(Self.packet()) != nil)
        #expect(f.accept(zero)?.priority == 0)
        #expect(f.received == 2 && f.priorityZeroReceived == 1)
    }

    @Test func shortLongAndBadTypePacketsAreCountedNotCrashed() {
        var f = Self.filter()
        var short = Self.packet()
        short.payload = Array(short.payload.prefix(5))
        var long = Self.packet()
        long.payload += [0, 0, 0, 0]
        var type = Self.packet()
        type.payload[0] = 0x22
        var version = Self.packet()
        version.payload[0] = 0x31
        var auth = Self.packet()
        auth.payload[4] = 7
        for p in [short, long, type, version, auth] { #expect(f.accept(p) == nil) }
        #expect(f.counters == [.length: 2, .invalidType: 1, .versionMismatch: 1, .invalidAuthType: 1])
    }

    @Test func legacyUnicastV3ChecksumIsDetectedAndSticky() {
        var f = ReceiveFilter(virtualRouterID: 11, version: .v3, password: nil, addresses: [Self.vip], intervalSeconds: 1,
                              unicast: true, ownAddress: Self.a)
        let advert = Advertisement(version: .v3, virtualRouterID: 11, priority: 40, interval: 100, addresses: [Self.vip])
        let legacy = IPPacket(source: Self.b, destination: Self.a, ttl: 255, payload: advert.encode(source: Self.b, destination: Advertisement.groupV4))
        #expect(!f.oldUnicastChecksum)
        #expect(f.accept(legacy) != nil)
        #expect(f.oldUnicastChecksum)
    }
}
