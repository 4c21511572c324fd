import Conntrack
import Foundation
import Netlink
import TestSupport
import Testing
import VRRP
import IPAddressing
import LinkIO

/// The I/O edges a VRRP daemon needs, against the kernel in namespaces: adverts over a
/// raw socket (checked by a real receiver and by tcpdump), virtual addresses via
/// rtnetlink, gratuitous ARP via AF_PACKET.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("tcpdump"), "needs root and tcpdump"))
struct VRRPIOTests {
    @Test func unicastAdvertisementReachesThePeer() throws {
        let link = try VethLink(tag: "vio", prefix: "tdv", addressA: "10.99.0.1/24", addressB: "10.99.0.2/24")
        defer { link.remove() }
        let a = IPAddress("10.99.0.1")!, b = IPAddress("10.99.0.2")!
        let sender = try NetworkNamespace.run(named: link.a.name) { try VRRPSocket(interface: link.interfaceA, source: a, multicast: false) }
        let receiver = try NetworkNamespace.run(named: link.b.name) { try VRRPSocket(interface: link.interfaceB, source: b, multicast: false) }
        let advert = Advertisement(version: .v2, virtualRouterID: 11, priority: 50, interval: 1, addresses: [IPAddress("10.99.0.3")!],
                                   authenticationType: 1, authenticationData: Advertisement.passwordData("1111"))
        var got: [[UInt8]] = []
        for _ in 0..<50 where got.isEmpty {
            try sender.send(advert.encode(source: a, destination: b), to: b)
            usleep(20_000)
            got = receiver.receiveAll()
        }
        let packet = try IPPacket.ipv4(try #require(got.first))
        #expect(packet.ttl == 255 && packet.source == a && packet.destination == b)
        #expect(try packet.advertisement() == advert)
    }

    @Test func multicastAdvertisementAndGratuitousARPOnTheWire() throws {
        let link = try VethLink(tag: "vmc", prefix: "tdv", addressA: "10.99.0.1/24", addressB: "10.99.0.2/24")
        defer { link.remove() }
        let a = IPAddress("10.99.0.1")!
        let capture = NSTemporaryDirectory() + "tdt-vrrp-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: capture) }
        let dump = try link.b.start(["tcpdump", "-i", link.interfaceB, "-nn", "-l", "-c", "2", "vrrp or arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop(); try? FileManager.default.removeItem(atPath: capture + ".err") }
        usleep(700_000)
        let sender = try NetworkNamespace.run(named: link.a.name) { try VRRPSocket(interface: link.interfaceA, source: a, multicast: true) }
        let v3 = Advertisement(version: .v3, virtualRouterID: 12, priority: 50, interval: 100, addresses: [IPAddress("10.99.0.4")!])
        try sender.send(v3.encode(source: a, destination: Advertisement.groupV4), to: Advertisement.groupV4)
        let garp = try NetworkNamespace.run(named: link.a.name) { try GratuitousARPSender(interface: link.interfaceA) }
        try garp.announce(IPAddress("10.99.0.4")!)
        #expect(dump.wait(timeout: 5) == 0)
        let text = Vectors.readText(capture)
        #expect(text.contains("10.99.0.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 12, prio 50"), "\(text)")
        #expect(text.contains("Request who-has 10.99.0.4 (ff:ff:ff:ff:ff:ff) tell 10.99.0.4"), "\(text)")
    }

    @Test func virtualAddressesComeAndGo() throws {
        let link = try VethLink(tag: "vip", prefix: "tdv", addressA: "10.99.0.1/24", addressB: "10.99.0.2/24")
        defer { link.remove() }
        let (addresses, index) = try NetworkNamespace.run(named: link.a.name) {
            (try InterfaceAddresses(), InterfaceAddresses.index(of: link.interfaceA))
        }
        let vip = IPAddress("10.99.0.3")!.bytes
        try addresses.add(vip, prefix: 24, interface: try #require(index), label: "\(link.interfaceA):vip")
        #expect(link.a.run(["ip", "-br", "addr", "show", link.interfaceA]).stdout.contains("10.99.0.3/24"))
        #expect(throws: NetlinkKernelError.self) { try addresses.add(vip, prefix: 24, interface: index!) }
        try addresses.remove(vip, prefix: 24, interface: index!)
        #expect(!link.a.run(["ip", "-br", "addr", "show", link.interfaceA]).stdout.contains("10.99.0.3"))
    }
}
