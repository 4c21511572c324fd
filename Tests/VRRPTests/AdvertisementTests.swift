import TestSupport
import Testing
import VRRP
import IPAddressing

/// Frames captured from keepalived 2.2.7 (../shared/vectors/vrrp-packets.md).
@Suite struct AdvertisementTests {
    static let vectors = SharedVectors.hexSections(SharedVectors.sharedDirectory + "/vectors/vrrp-packets.md")
    static func frame(_ id: String) -> [UInt8] { vectors.first { $0.id == id }!.bytes }
    static func hex(_ s: String) -> [UInt8] { s.split(separator: " ").map { UInt8($0, radix: 16)! } }

    @Test func vectorsArePresent() {
        #expect(Set(Self.vectors.map(\.id)).isSuperset(of: ["V1", "V2", "V3", "V4", "V5"]))
    }

    @Test func v2PasswordAdvertisement() throws {
        let packet = try IPPacket.frame(Self.frame("V1"))
        #expect(packet.ttl == 255)
        #expect(packet.destination == Advertisement.groupV4)
        let a = try packet.advertisement()
        #expect(a == Advertisement(version: .v2, virtualRouterID: 11, priority: 50, interval: 1, addresses: [IPAddress("10.0.0.3")!],
                                   authenticationType: 1, authenticationData: Advertisement.passwordData("1111")))
        #expect(a.encode(source: packet.source, destination: packet.destination) == packet.payload)
    }

    @Test func v3OverIPv4UsesThePseudoHeader() throws {
        let packet = try IPPacket.frame(Self.frame("V2"))
        let a = try packet.advertisement()
        #expect(a.version == .v3 && a.virtualRouterID == 12 && a.interval == 100)
        #expect(a.encode(source: packet.source, destination: packet.destination) == packet.payload)
        #expect(packet.payload[6...7] == [0xa7, 0xfa])
    }

    @Test func v3OverIPv6() throws {
        let packet = try IPPacket.frame(Self.frame("V5"))
        let a = try packet.advertisement()
        #expect(a.virtualRouterID == 13 && a.interval == 50)
        #expect(a.addresses == [IPAddress("fe80::1:13")!, IPAddress("2001:db8::13")!])
        #expect(a.encode(source: packet.source, destination: packet.destination) == packet.payload)
    }

    @Test func resignationAdvertisements() throws {
        let packet = try IPPacket.frame(Self.frame("V3"))
        let a = try packet.advertisement()
        #expect(a.priority == 0)
        var v3 = Advertisement(version: .v3, virtualRouterID: 12, priority: 0, interval: 100, addresses: [IPAddress("10.0.0.4")!])
        #expect(v3.encode(source: IPAddress("10.0.0.1")!, destination: Advertisement.groupV4) == Self.hex("31 0c 00 01 00 64 d9 fa 0a 00 00 04"))
        v3.priority = 50
        #expect(v3.encode(source: IPAddress("10.0.0.1")!, destination: Advertisement.groupV4) == Self.hex("31 0c 32 01 00 64 a7 fa 0a 00 00 04"))
    }

    @Test func gratuitousARPMatchesKeepalived() {
        let f = GratuitousARP.frame(mac: [2, 0, 0, 0, 0, 0x0a], address: IPAddress("10.0.0.3")!)
        #expect(f == Self.frame("V4"))
    }

    @Test func hostilePacketsGiveTypedErrors() throws {
        let good = try IPPacket.frame(Self.frame("V1"))
        var p = good
        p.ttl = 64
        #expect(throws: VRRPPacketError.wrongTTL(64)) { try p.advertisement() }
        #expect(try p.advertisement(requireTTL255: false).virtualRouterID == 11)
        var bad = good
        bad.payload[7] ^= 1
        #expect(throws: VRRPPacketError.self) { try bad.advertisement() }
        var count = good
        count.payload[3] = 2
        #expect(throws: VRRPPacketError.lengthMismatch(count: 2, length: 20)) { try count.advertisement() }
        var version = good
        version.payload[0] = 0x41
        #expect(throws: VRRPPacketError.unsupportedVersion(4)) { try version.advertisement() }
        var type = good
        type.payload[0] = 0x22
        #expect(throws: VRRPPacketError.notAnAdvertisement(2)) { try type.advertisement() }
        #expect(throws: VRRPPacketError.tooShort(3)) {
            try Advertisement.decode([0x21, 1, 2], family: 2, source: good.source, destination: good.destination)
        }
        // Ethernet padding after the message is not part of it.
        var padded = good
        padded.payload += [0, 0, 0, 0]
        #expect(try padded.advertisement().addresses.count == 1)
        var rng = SplitMix64(seed: 112)
        for _ in 0..<20_000 {
            let bytes = (0..<Int(rng.next() % 80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? Advertisement.decode(bytes, family: rng.next() % 2 == 0 ? 2 : 10, source: good.source, destination: good.destination)
            _ = try? IPPacket.ipv4(bytes)
            _ = try? IPPacket.frame(bytes)
        }
    }
}
