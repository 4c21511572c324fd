#if canImport(Glibc)
import Glibc
#endif
@testable import ConfigParsing
@testable import Daemon
import IPAddressing
import LinkIO
import StateSync
import Testing
import Timekeeping

/// Two peer-view links on loopback (127.0.0.1 and 127.0.0.2, one port): a view sent is
/// taken by the other side, sealed with the sync key when there is one; the controls, a
/// different key and a sealed view to a node without a key, are refused and counted.
@Suite(.serialized) struct PeerViewLinkTests {
    static func sync(local: String, peer: String, kind: ConntrackdConfiguration.Channel.Kind = .udp) -> ConntrackdConfiguration.Sync {
        var c = ConntrackdConfiguration.Channel(kind: kind, location: SourceLocation(file: "t", line: 1, column: 1))
        c.isDefault = true
        c.ipv4Address = IPAddress(local)
        c.ipv4Destination = IPAddress(peer)
        var s = ConntrackdConfiguration.Sync()
        s.channels = [c]
        return s
    }

    static func key(_ byte: UInt8) -> SyncKeys { SyncKeys(current: try! SyncKey(bytes: Array(repeating: byte, count: 32))) }

    /// A sends one view to B; B reads for up to a second. B's link is returned.
    static func exchange(port: UInt16, keyA: SyncKeys?, keyB: SyncKeys?, kind: ConntrackdConfiguration.Channel.Kind = .udp) throws -> PeerViewLink {
        let a = try PeerViewLink(sync: sync(local: "127.0.0.1", peer: "127.0.0.2", kind: kind), port: port, keys: keyA, log: { _ in })
        let b = try PeerViewLink(sync: sync(local: "127.0.0.2", peer: "127.0.0.1", kind: kind), port: port, keys: keyB, log: { _ in })
        a.sendIfDue([.init(name: "V", state: .master, priority: 150)], now: .now())
        for _ in 0..<100 where b.lastHeard == nil && b.refused.isEmpty {
            b.receive(now: .now())
            usleep(10_000)
        }
        return b
    }

    @Test func aViewReachesThePeerWithAndWithoutAKey() throws {
        let base = 39_000 + Int(getpid() % 500) * 2
        let choices: [SyncKeys?] = [nil, Self.key(7)]
        for (i, keys) in choices.enumerated() {
            let b = try Self.exchange(port: UInt16(base + i), keyA: keys, keyB: keys)
            #expect(b.freshView(now: .now())?.instances == [.init(name: "V", state: .master, priority: 150)], "\(b.refused)")
            #expect(b.refused.isEmpty, "\(b.refused)")
        }
    }

    @Test func aViewWithoutTheRightKeyIsRefused() throws {
        let base = 41_000 + Int(getpid() % 500) * 3
        let wrongKey = try Self.exchange(port: UInt16(base), keyA: Self.key(7), keyB: Self.key(8))
        #expect(wrongKey.lastHeard == nil && wrongKey.refused["authentication"] == 1, "\(wrongKey.refused)")
        let unsealed = try Self.exchange(port: UInt16(base + 1), keyA: nil, keyB: Self.key(8))
        #expect(unsealed.lastHeard == nil && unsealed.refused["authentication"] == 1, "\(unsealed.refused)")
        let sealedToKeyless = try Self.exchange(port: UInt16(base + 2), keyA: Self.key(7), keyB: nil)
        #expect(sealedToKeyless.lastHeard == nil && sealedToKeyless.refused["noMagic"] == 1, "\(sealedToKeyless.refused)")
    }

    /// A TCP sync link's addresses carry the views too (a UDP datagram of their own on the
    /// view's port); the control: a link without the peer's address has no endpoints.
    @Test func aTCPLinkCarriesTheView() throws {
        let b = try Self.exchange(port: UInt16(43_000 + Int(getpid() % 500)), keyA: nil, keyB: nil, kind: .tcp)
        #expect(b.freshView(now: .now())?.instances == [.init(name: "V", state: .master, priority: 150)], "\(b.refused)")
        var noPeer = Self.sync(local: "127.0.0.1", peer: "127.0.0.2", kind: .tcp)
        noPeer.channels[0].ipv4Destination = nil
        #expect(throws: SetupError.self) { try PeerViewLink(sync: noPeer, port: 3790, keys: nil, log: { _ in }) }
        var multicast = ConntrackdConfiguration.Channel(kind: .multicast, location: SourceLocation(file: "t", line: 1, column: 1))
        multicast.ipv4Address = IPAddress("225.0.0.50")
        multicast.ipv4Interface = IPAddress("10.0.0.1")
        var s = ConntrackdConfiguration.Sync()
        s.channels = [multicast]
        let endpoints = try? PeerViewLink.endpoints(s).get()
        #expect(endpoints == .multicast(group: IPAddress("225.0.0.50")!, localInterface: IPAddress("10.0.0.1"), interface: nil))
    }
}
