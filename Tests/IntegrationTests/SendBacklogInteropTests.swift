import Foundation
@testable import LinkIO
import IPAddressing
import Netlink
import TestSupport
import Testing
import Timekeeping

/// A sync link slower than the sender: a token bucket (tc tbf, 20 Mbit/s, room to queue
/// 8 MB) on A's side of a veth pair, and a small socket send buffer, so the kernel turns
/// datagrams away (EAGAIN) as a busy NIC does. NOTRACK and ALARM resend nothing, so each
/// datagram turned away would be flows the peer never hears of: the channel's backlog
/// keeps them and sends them as room frees. The control, the backlog off, loses them.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("tc"), "needs root and tc"))
struct SendBacklogInteropTests {
    static let datagrams = 3000

    func blast(backlogLimit: Int, tag: String) throws -> (received: Int, counters: ChannelCounters) {
        let link = try VethLink(tag: tag, prefix: "tdk", addressA: "10.93.0.1/24", addressB: "10.93.0.2/24")
        defer { link.remove() }
        let tc = link.a.run(["tc", "qdisc", "add", "dev", link.interfaceA, "root", "tbf", "rate", "20mbit", "burst", "16kb", "limit", "8mb"])
        try #require(tc.status == 0, "\(tc.stderr)")
        let sender = try NetworkNamespace.run(named: link.a.name) {
            try UDPChannel(local: IPAddress("10.93.0.1")!, peer: IPAddress("10.93.0.2")!, port: 3790, interface: link.interfaceA,
                           sendBuffer: 32768, receiveBuffer: nil)
        }
        let receiver = try NetworkNamespace.run(named: link.b.name) {
            try UDPChannel(local: IPAddress("10.93.0.2")!, peer: IPAddress("10.93.0.1")!, port: 3790, interface: link.interfaceB,
                           sendBuffer: nil, receiveBuffer: 16 << 20)
        }
        sender.backlog = SendBacklog(limit: backlogLimit)
        var sent = 0, received = 0
        let end = Date().addingTimeInterval(10)
        while Date() < end && received < Self.datagrams {
            if sent < Self.datagrams {
                var bytes: [UInt8] = [], ends: [Int] = []
                for _ in 0..<min(64, Self.datagrams - sent) {
                    bytes += [UInt8](repeating: 0x5a, count: 1000)
                    ends.append(bytes.count)
                }
                sender.send(batch: bytes, ends: ends)
                sent += ends.count
            }
            sender.service(now: .now())
            received += receiver.receiveAll().count
            if sent == Self.datagrams { usleep(1000) }
            if sent == Self.datagrams && !sender.backlogged && received < Self.datagrams {
                // Everything left the sender: give the link time to carry it, then stop.
                usleep(300_000)
                received += receiver.receiveAll().count
                break
            }
        }
        return (received, sender.counters)
    }

    @Test func datagramsTheSendBufferTurnsAwayWaitAndArrive() throws {
        let r = try blast(backlogLimit: 4096, tag: "bkl")
        #expect(r.counters.deferredSendBufferFull > 0, "the link never turned a datagram away: \(r.counters)")
        #expect(r.counters.droppedSendBufferFull == 0, "\(r.counters)")
        #expect(r.received == Self.datagrams, "\(r.counters)")
    }

    @Test func withoutTheBacklogTheyAreLost() throws {
        let r = try blast(backlogLimit: 0, tag: "bk0")
        #expect(r.counters.droppedSendBufferFull > 0, "\(r.counters)")
        #expect(r.received < Self.datagrams, "\(r.counters)")
        #expect(r.received + r.counters.droppedSendBufferFull == Self.datagrams, "\(r.counters)")
    }
}
