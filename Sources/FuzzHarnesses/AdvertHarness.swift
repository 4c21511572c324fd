import IPAddressing
import VRRP

/// A VRRP packet as the raw socket hands it over, through keepalived's receive checks.
/// The first byte configures the instance (so one corpus reaches every branch); the
/// instance otherwise takes its VRID, version, interval and addresses from the packet,
/// so mutations get past the cheap checks to the deep ones.
enum AdvertHarness {
    static let ipv4Target = FuzzTarget(
        name: "vrrp-advert-ipv4",
        summary: "byte 0: instance (auth none/PASS 1111/AH ahpass/as the packet says, unicast, addresses), then an IPv4 packet through IPPacket.ipv4, ReceiveFilter (AH included) and Advertisement.decode",
        run: { run($0, family: AddressFamily.inet) })
    static let ipv6Target = FuzzTarget(
        name: "vrrp-advert-ipv6",
        summary: "byte 0: instance options, then an IPv6 packet through IPPacket.ipv6, ReceiveFilter and Advertisement.decode",
        run: { run($0, family: AddressFamily.inet6) })

    static func run(_ bytes: [UInt8], family: UInt8) {
        var input = FuzzInput(bytes)
        let options = input.byte()
        let raw = input.rest()
        let packet: IPPacket
        do throws(VRRPPacketError) {
            packet = family == AddressFamily.inet ? try IPPacket.ipv4(raw) : try IPPacket.ipv6(raw)
        } catch {
            return
        }
        // A typed error is the decoder refusing junk, which is what is being exercised;
        // the receive filter below counts refusals as the daemon does.
        _ = try? packet.advertisement(requireTTL255: options & 0x40 == 0)
        var filter = instance(for: packet, options: options)
        _ = filter.accept(packet)
        // The same packet again: AH must now see a replay, and nothing may trap.
        let replayed = filter.accept(packet)
        if packet.protocolNumber == AuthenticationHeader.protocolNumber {
            invariant(replayed == nil, "AH accepted the same sequence number twice")
        }
    }

    static func instance(for packet: IPPacket, options: UInt8) -> ReceiveFilter {
        let p = packet.vrrpMessage
        let v3 = p.first.map { $0 >> 4 == 3 } ?? false
        let version: Advertisement.Version = (options & 0x10 != 0) != v3 ? .v3 : .v2
        let size = packet.source.family == AddressFamily.inet6 ? 16 : 4
        var addresses: [IPAddress] = []
        if options & 0x08 == 0, p.count > 3 {
            for i in 0..<Int(p[3]) {
                let at = 8 + i * size
                guard at + size <= p.count, let a = IPAddress(bytes: p[at..<(at + size)]) else { break }
                addresses.append(a)
            }
        } else {
            addresses = [size == 4 ? IPAddress("10.0.0.41")! : IPAddress("fe80::41")!]
        }
        var password: [UInt8]?
        var ah = false
        switch options & 0x03 {
        case 0: break
        case 1: password = Advertisement.passwordData("1111")
        case 2: password = Advertisement.passwordData("ahpass"); ah = true
        default:
            if packet.protocolNumber == AuthenticationHeader.protocolNumber {
                password = Advertisement.passwordData("ahpass"); ah = true
            } else if p.count > 4, p[4] == 1 {
                password = Advertisement.passwordData("1111")
            }
        }
        var filter = ReceiveFilter(virtualRouterID: p.count > 1 ? p[1] : 1, version: version, password: password,
                                   addresses: addresses, intervalSeconds: p.count > 5 ? UInt16(p[5]) : 1,
                                   unicast: options & 0x04 != 0,
                                   ownAddress: size == 4 ? IPAddress("192.0.2.254")! : IPAddress("fe80::fe")!)
        filter.authenticationHeader = ah
        return filter
    }
}
