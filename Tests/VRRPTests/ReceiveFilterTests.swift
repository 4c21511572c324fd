import Conntrack
import TestSupport
import Testing
import VRRP

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
                       ttl: UInt8 = 255, from source: IPAddress = b) -> IPPacket {
        let advert = Advertisement(version: .v2, virtualRouterID: vrid, priority: 40, interval: interval, addresses: addresses,
                                   authenticationType: password == nil ? 0 : 1,
                                   authenticationData: password.map(Advertisement.passwordData) ?? [UInt8](repeating: 0, count: 8))
        return IPPacket(source: source, destination: Advertisement.groupV4, ttl: ttl,
                        payload: advert.encode(source: source, destination: Advertisement.groupV4))
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

    @Test func unicastSkipsTheTTLCheck() {
        var f = Self.filter(unicast: true)
        #expect(f.accept(Self.packet(ttl: 64)) != nil)
    }
}
