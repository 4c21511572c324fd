import TestSupport
import Testing
import VRRP
import IPAddressing

/// The unsolicited NA keepalived 2.2.7 sent for an IPv6 VIP (vector V6), byte for byte.
@Suite struct NeighbourAdvertisementTests {
    static let mac: [UInt8] = [2, 0, 0, 0, 0, 0x0a]

    @Test func matchesKeepalivedsFrame() {
        let f = NeighbourAdvertisement.frame(mac: Self.mac, address: IPAddress("fe80::1:13")!, router: false)
        #expect(f == AdvertisementTests.frame("V6"))
    }

    @Test func globalAddressChecksum() {
        let f = NeighbourAdvertisement.frame(mac: Self.mac, address: IPAddress("2001:db8::13")!, router: false)
        #expect(f[0x38...0x39] == [0xf8, 0xfd])
        #expect(f.count == 0x56)
    }

    @Test func routerFlagFollowsForwarding() {
        let f = NeighbourAdvertisement.frame(mac: Self.mac, address: IPAddress("fe80::1:13")!, router: true)
        #expect(f[0x3a] == 0xa0)
        var sum = InternetChecksum()
        sum.add(f[0x16..<0x36])
        sum.add([0, 0, 0, 32, 0, 0, 0, 58])
        sum.add(f[0x36...])
        #expect(sum.value == 0)
    }
}
