import IPAddressing
import Testing
import VRRP

/// Inputs the fuzzers (Sources/FuzzHarnesses) found, kept as regressions.
@Suite struct VRRPFuzzFindingsTests {
    static let source = IPAddress("10.0.0.1")!
    static let vip = IPAddress("10.0.0.12")!

    static func packet(protocolNumber: UInt8, prefix: [UInt8]) -> IPPacket {
        let advert = Advertisement(version: .v3, virtualRouterID: 12, priority: 100, interval: 100, addresses: [vip])
        let vrrp = advert.encode(source: source, destination: Advertisement.groupV4)
        return IPPacket(source: source, destination: Advertisement.groupV4, ttl: 255, protocolNumber: protocolNumber,
                        payload: prefix + vrrp)
    }

    static func filter() -> ReceiveFilter {
        ReceiveFilter(virtualRouterID: 12, version: .v3, password: nil, addresses: [vip], intervalSeconds: 1,
                      unicast: false, ownAddress: IPAddress("10.0.0.2")!)
    }

    /// A v3 advert behind a forged AH header (protocol 51, an ICV of zeros) was stripped of
    /// it unverified and accepted; it is now refused as an authentication type mismatch.
    /// The control: the same advert without AH is accepted.
    @Test func v3InstanceRefusesAPacketInAH() {
        var f = Self.filter()
        #expect(f.accept(Self.packet(protocolNumber: AuthenticationHeader.protocolNumber,
                                     prefix: [UInt8](repeating: 0, count: AuthenticationHeader.length))) == nil)
        #expect(f.counters[.authTypeMismatch] == 1)
        var control = Self.filter()
        #expect(control.accept(Self.packet(protocolNumber: Advertisement.protocolNumber, prefix: []))?.priority == 100)
    }
}
