import Conntrack
import Foundation
import Netlink
import TestSupport
import Testing

/// The event ring (`EventRing`): events arrive through it, not the socket; a full ring
/// spills to the socket without losing or reordering one.
@Suite(.serialized, .enabled(if: Shell.isRoot, "needs root"))
struct EventRingTests {
    /// Creates `rounds` × 100 flows and destroys each round's after the next is made,
    /// reading `perRead` messages between rounds so the ring fills and empties as a busy
    /// daemon's does; returns the flows' events in the order read and the listener.
    func churn(ring bytes: Int?, rounds: Int = 40, perRead: Int = 60, namespace: String) throws
        -> (events: [(FlowPrinter.EventKind, String)], listener: ConntrackEventListener) {
        let listener = try ConntrackEventListener(
            events: .flows, namespace: namespace, bufferPolicy: ReceiveBufferPolicy(initial: 32 << 20, maximum: 32 << 20))
        if let bytes { try listener.divert(into: EventRing(bytes: bytes)) }
        let connection = try ConntrackConnection(namespace: namespace)
        let all = TestFlows.udp(rounds * 100)
        var events: [(FlowPrinter.EventKind, String)] = []
        func take(_ e: ConntrackEvent) {
            if case .flow(let kind, let flow, _) = e { events.append((kind, "\(flow.original.map { "\($0.source)" } ?? "-")")) }
        }
        for r in 0 ..< rounds {
            let made = try connection.create(all[r * 100 ..< (r + 1) * 100], acknowledge: false)
            #expect(made.succeeded == 100)
            if r > 0 { _ = try connection.delete(all[(r - 1) * 100 ..< r * 100], acknowledge: false, threaded: false) }
            try listener.poll(timeoutMilliseconds: 0, maximumReads: perRead, take)
        }
        _ = try connection.delete(all[(rounds - 1) * 100 ..< rounds * 100], acknowledge: false, threaded: false)
        for _ in 0 ..< 100 {
            let before = events.count
            try listener.poll(timeoutMilliseconds: 100, take)
            if events.count == before && events.count >= 2 * rounds * 100 { break }
        }
        return (events, listener)
    }

    /// Every flow's NEW and then its DESTROY, each exactly once.
    func inOrder(_ events: [(FlowPrinter.EventKind, String)]) -> Bool {
        var seen: [String: [FlowPrinter.EventKind]] = [:]
        for (kind, source) in events { seen[source, default: []].append(kind) }
        return seen.values.allSatisfy { $0 == [.new, .destroy] }
    }

    @Test func eventsComeThroughTheRing() throws {
        let ns = try TestNamespace("ring")
        defer { ns.remove() }
        let (events, listener) = try churn(ring: EventRing.defaultBytes, namespace: ns.name)
        #expect(events.count == 8000)
        #expect(inOrder(events))
        #expect(listener.counters.fromRing == 8000)
        #expect(listener.ring?.spills == 0)
        #expect(listener.counters.overruns == 0)
    }

    /// The control: without a ring the same events all come from the socket.
    @Test func withoutARingTheyComeFromTheSocket() throws {
        let ns = try TestNamespace("noring")
        defer { ns.remove() }
        let (events, listener) = try churn(ring: nil, namespace: ns.name)
        #expect(events.count == 8000)
        #expect(inOrder(events))
        #expect(listener.counters.fromRing == 0)
    }

    /// A ring of one page holds a dozen events: the rest spill to the socket, and each
    /// spill ends once both are read empty. Nothing is lost, nothing overtaken.
    @Test func aFullRingSpillsToTheSocketInOrder() throws {
        let ns = try TestNamespace("ringspill")
        defer { ns.remove() }
        // Read up to what each round brings, so every spill ends and the next round fills the ring again.
        let (events, listener) = try churn(ring: 4096, perRead: 1000, namespace: ns.name)
        let spills = listener.ring?.spills ?? 0
        #expect(events.count == 8000)
        #expect(inOrder(events))
        #expect(spills >= 10, "the ring filled and emptied only \(spills) times")
        #expect(listener.counters.fromRing > 0 && listener.counters.fromRing < 8000)
        #expect(listener.counters.overruns == 0)
    }

    /// Our own writes' events are dropped by the ring's program when asked; others pass.
    /// Three writers, as the kernel numbers a process's sockets from its pid and then from
    /// -4096 down: ports whose top byte is set (a 64-bit compare missed those) and not.
    @Test func ownEchoesAreDroppedInTheKernel() throws {
        let ns = try TestNamespace("ringecho")
        defer { ns.remove() }
        let other = try ConntrackConnection(namespace: ns.name)
        let flows = TestFlows.udp(6000)
        for (i, dropping) in [(0, true), (1, true), (2, true), (3, false)] {
            let connection = try ConntrackConnection(namespace: ns.name)
            let listener = try ConntrackEventListener(events: [.new], namespace: ns.name)
            try listener.divert(into: EventRing(droppingEchoesOf: dropping ? connection.socket.portID : 0))
            let base = i * 1000
            _ = try connection.create(flows[base ..< base + 500], acknowledge: true)
            _ = try other.create(flows[base + 500 ..< base + 1000], acknowledge: true)
            var n = 0
            for _ in 0 ..< 20 {
                let batch = try listener.poll(timeoutMilliseconds: 100)
                if batch.isEmpty { break }
                n += batch.count
            }
            #expect(n == (dropping ? 500 : 1000), "writer port \(connection.socket.portID), dropping \(dropping)")
        }
    }
}

/// The sync daemon reads its events from the ring (status: `eventRingBytes`), and
/// replicates them; the control, with TANDEM_TEST_EVENT_SOCKET, reads the socket.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct DaemonEventRingTests {
    typealias Pair = ConntrackdInteropTests.Pair

    @Test(arguments: [true, false]) func theSenderReadsItsEventsFromTheRing(ring: Bool) throws {
        var extra = Pair.Extra()
        if !ring { extra.tandemEnvironment = ["TANDEM_TEST_EVENT_SOCKET=1"] }
        let pair = try Pair(ring ? "ringd" : "sockd", a: .tandem, b: .tandem, extra: extra)
        defer { pair.stop() }
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: "\(pair.dir)/b.ctl") })
        for f in ConntrackdInteropTests.flows { pair.a.run(["conntrack", "-I"] + f) }
        let n = ConntrackdInteropTests.flows.count
        var b = JSONValue.null
        #expect(pair.eventually {
            b = (try? StatusJSONTests.status(pair.b, config: "\(pair.dir)/b.conf")) ?? b
            return (b["caches"]?["external"]?["flows"]?.int ?? 0) >= n
        }, "\(b)")
        let a = try StatusJSONTests.status(pair.a, config: "\(pair.dir)/a.conf")
        #expect(a["kernel"]?["eventRingBytes"]?.int == Int64(ring ? EventRing.defaultBytes : 0), "\(a)")
        #expect(a["kernel"]?["eventRingSpills"]?.int == 0)
        #expect((a["kernel"]?["eventsReceived"]?.int ?? 0) >= n)
        let metrics = pair.a.run([Shell.tandem, "status", "-C", "\(pair.dir)/a.conf"])
        #expect(metrics.status == 0)
    }
}
