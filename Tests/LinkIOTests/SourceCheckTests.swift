import IPAddressing
import LinkIO
import Testing
import TestSupport
import Timekeeping

/// Who may speak on a link (docs/sync-hardening.md): a multicast link's subnet check, and
/// which TCP connection the listener reads.
@Suite struct SourceCheckTests {
    static let subnet = MulticastSourceCheck.Subnet(address: IPAddress("10.236.1.1")!, prefix: 24)

    @Test func multicastAdmitsTheSubnetOnly() {
        let check = MulticastSourceCheck(subnets: [Self.subnet])
        #expect(check.admits(IPAddress("10.236.1.2")!))
        #expect(check.admits(IPAddress("10.236.1.254")!))
        #expect(!check.admits(IPAddress("10.236.2.2")!))
        #expect(!check.admits(IPAddress("192.168.1.2")!))
        // Our own address is never the peer's (multicast loop is off).
        #expect(!check.admits(IPAddress("10.236.1.1")!))
        #expect(!check.admits(IPAddress("fe80::1")!))
    }

    @Test func multicastOverIPv6AdmitsTheInterfacesPrefixes() {
        let check = MulticastSourceCheck(subnets: [.init(address: IPAddress("fe80::1")!, prefix: 64),
                                                   .init(address: IPAddress("fd00:236::1")!, prefix: 64)])
        #expect(check.admits(IPAddress("fe80::2")!))
        #expect(check.admits(IPAddress("fd00:236::9")!))
        #expect(!check.admits(IPAddress("fd00:237::9")!))
        #expect(!check.admits(IPAddress("fe80::1")!))
        #expect(!check.admits(IPAddress("10.236.1.2")!))
    }

    @Test func tcpTakesOnlyThePeer() {
        let p = TCPAcceptPolicy(hardened: true)
        #expect(p.decide(fromPeer: true, held: nil, now: ns(0)) == .take)
        #expect(p.decide(fromPeer: false, held: nil, now: ns(0)) == .refuseNotFromPeer)
        #expect(p.decide(fromPeer: false, held: ns(0), now: ns(10_000_000_000)) == .refuseNotFromPeer)
    }

    /// A live connection is kept; one quiet for 3 s is replaced (the peer reconnected).
    @Test func tcpKeepsALiveConnection() {
        let p = TCPAcceptPolicy(hardened: true)
        let heard = ns(5_000_000_000)
        #expect(p.decide(fromPeer: true, held: heard, now: heard + .milliseconds(2_999)) == .refuseSecondConnection)
        #expect(p.decide(fromPeer: true, held: heard, now: heard + .seconds(3)) == .replace)
    }

    /// Control: unhardened, as conntrackd, anyone is taken and the newest wins.
    @Test func tcpUnhardenedTakesAnyone() {
        let p = TCPAcceptPolicy(hardened: false)
        #expect(p.decide(fromPeer: false, held: nil, now: ns(0)) == .take)
        #expect(p.decide(fromPeer: false, held: ns(0), now: ns(1)) == .replace)
    }
}
