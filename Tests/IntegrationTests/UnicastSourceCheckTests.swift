import Foundation
import IPAddressing
import TestSupport
import Netlink
import Testing
import VRRP

/// check_unicast_src beside keepalived 2.2.7: a lone unicast master hears priority-254
/// adverts from an address of its segment that is not its unicast peer. With the check
/// it stays master and counts them; the control, the same file without the check, steps
/// down for them, as keepalived does. Either way, the listed peer's adverts are obeyed.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct UnicastSourceCheckTests {
    struct Case: Sendable, CustomStringConvertible {
        var kind: VRRPRouter.Kind
        var check: Bool
        var description: String { "\(kind) \(check ? "check_unicast_src" : "no check")" }
    }

    static let config = VRRPTestConfig(version: 3, interval: 0.2, unicast: true, password: nil, vrid: 61)

    @Test(arguments: [Case(kind: .tandem, check: true), Case(kind: .keepalived, check: true),
                      Case(kind: .tandem, check: false), Case(kind: .keepalived, check: false)])
    func advertsFromUnlistedSources(_ c: Case) throws {
        let pair = try SwitchedPair(tag: "uc", prefix: "tduc", network: "10.79")
        defer { pair.remove() }
        let text = Self.config.text(pair, side: "a", instances: [.init(priority: 100, vips: ["10.79.0.100"], extra: c.check ? ["check_unicast_src"] : [])])
        let router = try VRRPRouter(c.kind, in: pair.a, config: text)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", "10.79.0.100") }, "\(router.log)")
        let sender = try RawIPv4Sender(namespace: pair.b.name, interface: pair.interface("b", 0))
        let target = IPAddress(pair.address("a", 0))!
        func advert(from source: IPAddress) -> [UInt8] {
            Advertisement(version: .v3, virtualRouterID: 61, priority: 254, interval: 20, addresses: [IPAddress("10.79.0.100")!],
                          authenticationType: 0, authenticationData: []).encode(source: source, destination: target)
        }
        let stranger = IPAddress("10.79.0.9")!
        for _ in 0..<6 {
            try sender.send(source: stranger.bytes, destination: target.bytes, ttl: 255, payload: advert(from: stranger))
            usleep(50_000)
        }
        if c.check {
            usleep(600_000)
            #expect(pair.holds("a", "10.79.0.100"), "an unlisted source made the master step down\n\(router.log)")
            if c.kind == .tandem {
                #expect(router.data().contains("unlistedSource=6"), "\(router.data())")
                #expect(router.log.contains("ignored an advert from \(stranger): unlistedSource"), "\(router.log)")
            }
            // The listed peer is still obeyed.
            let peer = IPAddress(pair.address("b", 0))!
            for _ in 0..<6 {
                try sender.send(source: peer.bytes, destination: target.bytes, ttl: 255, payload: advert(from: peer))
                usleep(50_000)
            }
        }
        #expect(eventually(within: 3) { !pair.holds("a", "10.79.0.100") }, "\(c): the master kept its address\n\(router.log)")
    }

    /// min_ttl on the peer: its adverts arriving with TTL 64 are dropped (and counted) by
    /// both daemons; the control, without min_ttl, obeys the same adverts (unicast adverts
    /// have no TTL rule of their own). TTL 255 is obeyed either way.
    @Test(arguments: [Case(kind: .tandem, check: true), Case(kind: .keepalived, check: true),
                      Case(kind: .tandem, check: false), Case(kind: .keepalived, check: false)])
    func peerTTLLimits(_ c: Case) throws {
        let pair = try SwitchedPair(tag: "ut", prefix: "tduc", network: "10.79")
        defer { pair.remove() }
        let peer = pair.address("b", 0)
        var text = Self.config.text(pair, side: "a", instances: [.init(priority: 100, vips: ["10.79.0.100"])])
        if c.check { text = text.replacingOccurrences(of: "    \(peer)\n", with: "    \(peer) min_ttl 200 max_ttl 255\n") }
        let router = try VRRPRouter(c.kind, in: pair.a, config: text)
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", "10.79.0.100") }, "\(router.log)")
        let sender = try RawIPv4Sender(namespace: pair.b.name, interface: pair.interface("b", 0))
        let target = IPAddress(pair.address("a", 0))!, source = IPAddress(peer)!
        let advert = Advertisement(version: .v3, virtualRouterID: 61, priority: 254, interval: 20, addresses: [IPAddress("10.79.0.100")!],
                                   authenticationType: 0, authenticationData: []).encode(source: source, destination: target)
        for _ in 0..<6 {
            try sender.send(source: source.bytes, destination: target.bytes, ttl: 64, payload: advert)
            usleep(50_000)
        }
        if c.check {
            usleep(600_000)
            #expect(pair.holds("a", "10.79.0.100"), "a TTL-64 advert made the master step down\n\(router.log)")
            #expect(router.statistics().value("Packet Errors/TTL") == 6, "\(router.statistics())")
            for _ in 0..<6 {
                try sender.send(source: source.bytes, destination: target.bytes, ttl: 255, payload: advert)
                usleep(50_000)
            }
        }
        #expect(eventually(within: 3) { !pair.holds("a", "10.79.0.100") }, "\(c): the master kept its address\n\(router.log)")
    }

    /// unicast_ttl: the adverts leave with that TTL; the control, without it, with 255.
    @Test(arguments: [Case(kind: .tandem, check: true), Case(kind: .keepalived, check: true),
                      Case(kind: .tandem, check: false), Case(kind: .keepalived, check: false)])
    func unicastTTLIsSent(_ c: Case) throws {
        let pair = try SwitchedPair(tag: "us", prefix: "tduc", network: "10.79")
        defer { pair.remove() }
        let extra = c.check ? ["unicast_ttl 7"] : []
        let text = Self.config.text(pair, side: "a", instances: [.init(priority: 100, vips: ["10.79.0.100"], extra: extra)])
        // Listening before the router starts: its first adverts are what is read.
        let fd = try NetworkNamespace.run(named: pair.b.name) { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 112)
            guard fd >= 0 else { throw TestSetupError("socket(112): \(errno)") }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        defer { close(fd) }
        let router = try VRRPRouter(c.kind, in: pair.a, config: text)
        defer { router.remove() }
        var ttls: Set<UInt8> = []
        var buffer = [UInt8](repeating: 0, count: 1500)
        for _ in 0..<3 {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n >= 20 else { break }
            ttls.insert(buffer[8])
        }
        #expect(ttls == [c.check ? 7 : 255], "\(c): adverts arrived with TTL \(ttls)\n\(router.log)")
    }
}

/// vrrp_mcast_group4 beside keepalived 2.2.7: Tandem and keepalived both sending to
/// 224.0.0.99 elect one master (Tandem, the higher priority); the control, keepalived on
/// the default group, hears nothing of Tandem, and both hold the address.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct MulticastGroupTests {
    static let config = VRRPTestConfig(version: 3, interval: 0.2, unicast: false, password: nil, vrid: 62)

    @Test(arguments: [true, false])
    func bothOnTheConfiguredGroupElectOneMaster(keepalivedOnGroup: Bool) throws {
        let pair = try SwitchedPair(tag: "mg", prefix: "tduc", network: "10.79")
        defer { pair.remove() }
        let vip = "10.79.0.101"
        func text(_ side: String, priority: Int, group: Bool) -> String {
            let t = Self.config.text(pair, side: side, instances: [.init(priority: priority, vips: [vip])])
            return group ? t.replacingOccurrences(of: "  router_id tdt-\(side)\n", with: "  router_id tdt-\(side)\n  vrrp_mcast_group4 224.0.0.99\n") : t
        }
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: text("a", priority: 150, group: true))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: text("b", priority: 100, group: keepalivedOnGroup))
        defer { keepalived.remove() }
        try #require(eventually(within: 10) { pair.holds("a", vip) }, "\(tandem.log)")
        #expect(tandem.data().contains("Multicast address 224.0.0.99"), "\(tandem.data())")
        // Long enough for a lone backup to have taken over (several master-down intervals).
        usleep(2_000_000)
        if keepalivedOnGroup {
            #expect(pair.holds("a", vip) && !pair.holds("b", vip), "\(keepalived.log)")
        } else {
            #expect(pair.holds("a", vip) && pair.holds("b", vip), "the control: keepalived on 224.0.0.18 should not hear Tandem\n\(keepalived.log)")
        }
    }
}
