import Foundation
import IPAddressing
import TestSupport
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
}
