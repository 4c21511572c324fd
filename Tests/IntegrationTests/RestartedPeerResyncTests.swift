import Foundation
import IPAddressing
import Netlink
import StateSync
import TestSupport
import Testing

/// A peer that restarts far from its old sequence line (a long-running node: its old line
/// is more than the jump guard's window away) and asks for our table at once. The jump
/// guard refuses the new line until it is confirmed (docs/sync-hardening.md), its resync
/// request included; the request is kept and answered when the line is adopted, so the
/// peer does not wait for its own repeat (seconds) to get its table.
///
/// B is a Tandem daemon; A's daemon runs first (the old line), is stopped, and the test
/// plays the restarted A from A's address: one resync request, then ALIVEs, all saying
/// HELLO, as a restarted node does. Control: `TANDEM_TEST_NO_HELD_RESYNC=1` forgets the
/// held request, and B never acknowledges it.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct RestartedPeerResyncTests {
    static let tableFlowSource = "10.236.70.1"

    @Test(arguments: [true, false]) func aRestartedPeersFirstResyncRequestIsAnswered(held: Bool) throws {
        let lab = try SyncHardeningAttackTests.Lab(held ? "ph" : "pc", channel: "UDP", hardened: true,
                                                   environment: held ? [] : ["TANDEM_TEST_NO_HELD_RESYNC=1"])
        defer { lab.remove() }
        #expect(lab.ready(), "B: \(lab.log("b"))")
        // B's table holds a flow of its own, which A has acknowledged before it stops.
        lab.b.run(["conntrack", "-I", "-p", "udp", "-s", Self.tableFlowSource, "-d", "10.236.71.1", "--sport", "999", "--dport", "53", "-t", "120"])
        #expect(lab.eventually(10) { lab.tandem("a", ["-e"]).contains("src=\(Self.tableFlowSource) ") })
        usleep(2_000_000)
        lab.daemons[0].stop()
        // The old line's silence the guard waits for before it adopts a new one.
        usleep(2_300_000)
        let first = UInt32(truncatingIfNeeded: time(nil)) &+ 3_000_000
        let answer = try Self.restartedPeer(in: lab.a, first: first)

        let acknowledgesRequest = answer.contains {
            guard case .control(let c) = $0.body, c.flags.contains(.ack), let r = c.range else { return false }
            return first &- r.from <= r.to &- r.from
        }
        let tableArrived = answer.contains {
            guard $0.type == .flowNew, case .flow(let f) = $0.body else { return false }
            return f.source == IPAddress(Self.tableFlowSource)
        }
        let log = lab.log("b")
        if held {
            #expect(acknowledgesRequest, "B's answer: \(answer.map(\.flags)); B: \(log)")
            #expect(tableArrived, "B: \(log)")
            // The requester takes the first idle tick after its request's ACK as the table's
            // end: none may come between that ACK and the table.
            func isTick(_ m: SyncMessage) -> Bool {
                if case .control(let c) = m.body { !c.flags.isDisjoint(with: [.ack, .alive]) } else { false }
            }
            if let ack = answer.firstIndex(where: { m in
                   guard case .control(let c) = m.body, c.flags.contains(.ack), let r = c.range else { return false }
                   return first &- r.from <= r.to &- r.from
               }),
               let table = answer.firstIndex(where: { $0.type == .flowNew }) {
                let tick = answer[(ack + 1)...].firstIndex(where: isTick)
                #expect(tick.map { $0 > table } ?? true, "B's answer: \(answer.map { ($0.type, $0.flags, $0.sequence) })")
            }
            #expect(log.contains("was held while its new sequence line was confirmed"), "B: \(log)")
        } else {
            #expect(!acknowledgesRequest, "B: \(log)")
            #expect(!log.contains("was held while"), "B: \(log)")
        }
        // Both: the new line was adopted (it was refused first).
        #expect(SyncHardeningAttackTests.refused(lab.refusals(), "sequence-jump-unconfirmed") > 0, "\(lab.refusals())")
    }

    /// The restarted A: from 10.236.1.1:3780, a resync request at `first`, then four ALIVEs
    /// in order, every one saying HELLO; returns what B sent back within 4 s.
    static func restartedPeer(in ns: TestNamespace, first: UInt32) throws -> [SyncMessage] {
        try NetworkNamespace.run(named: ns.name) {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { throw TestSetupError("socket: \(errno)") }
            defer { close(fd) }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            func address(_ text: String) -> sockaddr_in {
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                a.sin_port = UInt16(3780).bigEndian
                inet_pton(AF_INET, text, &a.sin_addr)
                return a
            }
            var local = address("10.236.1.1")
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw TestSetupError("bind 10.236.1.1:3780: \(errno)") }
            var peer = address("10.236.1.2")
            func send(_ c: ControlMessage) {
                var out: [UInt8] = []
                SyncMessage.control(c).encode(into: &out)
                _ = out.withUnsafeBytes { raw in
                    withUnsafePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
            var receiver = SyncReceiver()
            var received: [SyncMessage] = []
            func drain(until deadline: Date) {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while Date() < deadline {
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard n > 0 else { continue }
                    for r in receiver.receive(datagram: Array(buffer[0 ..< n])) {
                        if case .message(let m) = r { received.append(m) }
                    }
                }
            }
            send(.resync(sequence: first, handshake: .hello))
            for k in UInt32(1) ... 4 {
                drain(until: Date().addingTimeInterval(0.15))
                send(.alive(sequence: first &+ k, handshake: .hello))
            }
            drain(until: Date().addingTimeInterval(4))
            return received
        }
    }
}
