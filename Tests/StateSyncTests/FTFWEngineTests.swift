import Conntrack
import StateSync
import TestSupport
import Testing
import Timekeeping

/// FTFW against the transcripts observed between real conntrackd daemons (spec §3.3,
/// vectors V1–V3, V6 and the ACK-window example), with a virtual clock.
@Suite struct FTFWEngineTests {
    typealias Engine = FTFWEngine<Int>
    static let second: UInt64 = 1_000_000_000

    static func flowBody(_ key: Int, version: UInt32) -> SyncMessage.Body {
        var f = SyncedFlow()
        f.source = .v4(0x0a00_0000 | UInt32(key))
        f.destination = .v4(0x0a63_0001)
        f.protocolNumber = 17
        f.ports = SyncPorts(source: 1000, destination: 53)
        f.status = 0x8
        f.mark = version
        return .flow(f)
    }

    static func data(_ seq: UInt32, flags: SyncFlags = []) -> SyncMessage {
        SyncMessage(type: .flowUpdate, flags: flags, sequence: seq, body: flowBody(1, version: 1))
    }

    static func controls(_ messages: [SyncMessage]) -> [ControlMessage] {
        messages.compactMap { if case .control(let c) = $0.body { c } else { nil } }
    }

    /// A limited run sends a slice in queue order and leaves the rest queued, in order;
    /// control messages are not counted against the limit.
    @Test func limitedTransmitSendsSlicesInOrder() {
        var e = Engine(configuration: .compatible(), firstSequence: 1, now: ns(0))
        for k in 0 ..< 10 { e.enqueue(k) }
        e.fire(now: ns(Self.second))
        var keys: [Int] = []
        var slices: [Int] = []
        while e.hasPendingTransmit {
            var n = 0
            e.transmit(now: ns(Self.second), limit: 3, render: { k in (.flowNew, Self.flowBody(k, version: 1)) }) { m in
                if case .flow(let f) = m.body, case .v4(let a)? = f.source { keys.append(Int(a & 0xff)); n += 1 }
            }
            slices.append(n)
            #expect(slices.count < 10)
        }
        #expect(keys == Array(0 ..< 10))
        #expect(slices == [3, 3, 3, 1])
        // Re-queued between slices: still one pending transmission per object.
        for k in [4, 4, 5] { e.enqueue(k) }
        let again = e.transmit(now: ns(2 * Self.second)) { k in (.flowUpdate, Self.flowBody(k, version: 2)) }
        #expect(again.filter { if case .flow = $0.body { true } else { false } }.count == 2)
    }

    @Test func helloHandshakeMatchesTheCapture() {
        var a = Engine(firstSequence: 1795533973, now: ns(0))
        var b = Engine(firstSequence: 1795533973, now: ns(0))
        a.fire(now: ns(Self.second))
        let v1 = a.transmit(now: ns(Self.second)) { _ in nil }
        #expect(v1 == [.control(.alive(sequence: 1795533973, handshake: .hello))])
        #expect(b.receive(v1[0]) == [.peerHello, .peerAlive])
        b.fire(now: ns(Self.second + 500))
        let v2 = b.transmit(now: ns(Self.second + 500)) { _ in nil }
        #expect(v2 == [.control(.ack(1795533973, 1795533973, sequence: 1795533973, handshake: [.hello, .helloBack]))])
        _ = a.receive(v2[0])
        #expect(a.hello == .done)
        a.fire(now: ns(2 * Self.second))
        let v3 = a.transmit(now: ns(2 * Self.second)) { _ in nil }
        #expect(v3 == [.control(.ack(1795533973, 1795533973, sequence: 1795533974, handshake: .helloBack))])
        _ = b.receive(v3[0])
        #expect(b.hello == .done)
        // Steady state: plain ALIVE / ACK, no handshake bits.
        a.fire(now: ns(3 * Self.second))
        #expect(a.transmit(now: ns(3 * Self.second)) { _ in nil }.allSatisfy { $0.flags.intersection(.handshake).isEmpty })
    }

    @Test func ackWindowMatchesTheObservedExample() {
        var c = Engine(configuration: .init(ackWindowSize: 5), firstSequence: 1, now: ns(0))
        _ = c.receive(SyncMessage.control(.alive(sequence: 5000, handshake: .hello)))
        c.fire(now: ns(Self.second))
        let first = Self.controls(c.transmit(now: ns(Self.second)) { _ in nil }).filter { $0.flags.contains(.ack) }
        #expect(first.map(\.range) == [ClosedRangeOfSequences(from: 5000, to: 5000)])
        for s in UInt32(5001)...5012 { _ = c.receive(Self.data(s)) }
        let batch = Self.controls(c.transmit(now: ns(Self.second + 10)) { _ in nil })
        #expect(batch.map(\.range) == [ClosedRangeOfSequences(from: 5001, to: 5004), ClosedRangeOfSequences(from: 5005, to: 5009)])
        c.fire(now: ns(2 * Self.second + 10))
        let later = Self.controls(c.transmit(now: ns(2 * Self.second + 10)) { _ in nil })
        #expect(later.map(\.range) == [ClosedRangeOfSequences(from: 5010, to: 5012)])
    }

    /// A HELLO refused as malformed (its ACK range runs backwards) used to move the
    /// window's start to its own sequence while the tracker stayed put, so the next ACK
    /// spanned from the refused message to the last good one (libFuzzer's sync-engine
    /// finding: an ACK from 1795534044 to 182976514, which no receiver reads). The window
    /// now restarts only at a HELLO that is taken. The control: a good HELLO before the
    /// window still restarts it there.
    @Test func aRefusedHelloLeavesTheAckWindowAlone() {
        func ackAfter(_ hello: SyncMessage) -> [ClosedRangeOfSequences?] {
            var c = Engine(configuration: .init(ackWindowSize: 50), firstSequence: 1, now: ns(0))
            for s in UInt32(1000)...1002 { _ = c.receive(Self.data(s)) }
            _ = c.receive(hello)
            c.acknowledgeReceived()
            return Self.controls(c.transmit(now: ns(10)) { _ in nil }).filter { $0.flags.contains(.ack) }.map(\.range)
        }
        let refused = ackAfter(SyncMessage.control(.ack(2000, 10, sequence: 500, handshake: .hello)))
        #expect(refused == [ClosedRangeOfSequences(from: 1000, to: 1002)])
        let taken = ackAfter(SyncMessage.control(.alive(sequence: 500, handshake: .hello)))
        #expect(taken == [ClosedRangeOfSequences(from: 500, to: 500)])
    }

    @Test func gapIsNackedReportedAndCountedTruly() {
        var c = Engine(firstSequence: 1, now: ns(0))
        for s in UInt32(1000)...1003 { _ = c.receive(Self.data(s)) }
        let events = c.receive(Self.data(1008))
        #expect(events == [.sequenceGap(ClosedRangeOfSequences(from: 1004, to: 1007)), .apply(Self.data(1008))])
        let out = Self.controls(c.transmit(now: ns(1)) { _ in nil })
        #expect(out.map { $0.flags.subtracting(.handshake) } == [.ack, .nack])
        #expect(out[0].range == ClosedRangeOfSequences(from: 1000, to: 1003))
        #expect(out[1].range == ClosedRangeOfSequences(from: 1004, to: 1007))
        // 1004…1007: four messages (conntrackd counts six).
        #expect(c.tracker.lost == 4 && c.tracker.gaps == 1)
        // An old message arriving late is dropped, not applied.
        #expect(c.receive(Self.data(1005)).isEmpty)
        #expect(c.tracker.before == 1)
    }

    @Test func nackResendsCurrentStateWithNewSequence() {
        var s = Engine(configuration: .compatible(), firstSequence: 100, now: ns(0))
        var version: UInt32 = 1
        s.enqueue(7)
        let first = s.transmit(now: ns(0)) { (.flowUpdate, Self.flowBody($0, version: version)) }
        #expect(first.map(\.sequence) == [100])
        version = 2
        _ = s.receive(SyncMessage.control(.nack(100, 100, sequence: 50)))
        let again = s.transmit(now: ns(1)) { (.flowUpdate, Self.flowBody($0, version: version)) }
        #expect(again.map(\.sequence) == [101])
        guard case .flow(let f) = again.first?.body else { Issue.record("no resend"); return }
        #expect(f.mark == 2)
        #expect(s.counters.retransmitted == 1)
    }

    /// Only final objects (sent as destroys) are released for the owner to forget.
    @Test func ackReleasesAndHelloFlushes() {
        var s = Engine(configuration: .compatible(), firstSequence: 10, now: ns(0))
        for k in 0..<5 { s.enqueue(k) }
        _ = s.transmit(now: ns(0)) { (.flowDestroy, Self.flowBody($0, version: 1)) }
        #expect(s.resendQueueCount == 5)
        _ = s.receive(SyncMessage.control(.ack(10, 12, sequence: 1)))
        #expect(Set(s.takeReleased()) == [0, 1, 2])
        #expect(s.resendQueueCount == 2)
        _ = s.receive(SyncMessage.control(.alive(sequence: 900, handshake: .hello)))
        #expect(s.resendQueueCount == 0)
        #expect(Set(s.takeReleased()) == [3, 4])
    }

    @Test func acknowledgedUpdatesAreNotReleased() {
        var s = Engine(configuration: .compatible(), firstSequence: 10, now: ns(0))
        s.enqueue(1)
        s.enqueue(2)
        _ = s.transmit(now: ns(0)) { ($0 == 1 ? .flowUpdate : .flowDestroy, Self.flowBody($0, version: 1)) }
        _ = s.receive(SyncMessage.control(.ack(10, 11, sequence: 1)))
        #expect(s.resendQueueCount == 0)
        #expect(s.takeReleased() == [2])
        // The acknowledged update is idle again: a change sends it anew.
        s.enqueue(1)
        #expect(s.transmit(now: ns(1)) { (.flowUpdate, Self.flowBody($0, version: 2)) }.map(\.sequence) == [12])
    }

    /// Tandem holds state until the peer answered HELLO, and re-sends to a restarted peer.
    @Test func dataWaitsForTheHandshake() {
        var s = Engine(firstSequence: 1, now: ns(0))
        s.enqueue(1)
        let first = s.transmit(now: ns(0)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(first == [.control(.alive(sequence: 1, handshake: .hello))])
        #expect(s.hasPendingTransmit)
        _ = s.receive(SyncMessage.control(.ack(1, 1, sequence: 77, handshake: [.hello, .helloBack])))
        // First a fence message without HELLO; state follows once the peer acknowledges it.
        let fence = s.transmit(now: ns(1)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(fence == [.control(.alive(sequence: 2, handshake: .helloBack))])
        _ = s.receive(SyncMessage.control(.ack(2, 2, sequence: 78)))
        let next = s.transmit(now: ns(2)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(next.count == 1)
        #expect(next.last?.type == .flowUpdate)
        #expect(next.last?.flags == [])
        // The peer restarts: what it had not acknowledged is sent again.
        _ = s.receive(SyncMessage.control(.alive(sequence: 5, handshake: .hello)))
        let again = s.transmit(now: ns(2)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(again.contains { $0.type == .flowUpdate })
    }

    /// A resync answer from a node whose data still waits for the handshake (a restarted
    /// node, promoted before the peer acknowledged its fence): the end-of-table ALIVE waits
    /// behind the held table, so the peer cannot take the table as arrived before it was sent.
    @Test func theEndOfATableNeverOvertakesItsHeldObjects() {
        var s = Engine(firstSequence: 1, now: ns(0))
        s.fire(now: ns(1_000_000_000))
        _ = s.transmit(now: ns(1_000_000_000)) { _ in nil }                 // HELLO, 1
        _ = s.receive(SyncMessage.control(.ack(1, 1, sequence: 77, handshake: [.hello, .helloBack])))
        s.fire(now: ns(2_000_000_000))
        _ = s.transmit(now: ns(2_000_000_000)) { _ in nil }                 // the fence, 2: not acknowledged yet
        _ = s.receive(SyncMessage.control(.resync(sequence: 78)))
        s.acknowledgeReceived()
        for k in 0..<3 { s.enqueue(k) }
        s.markEndOfTable()
        let held = s.transmit(now: ns(2_100_000_000)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        // The request is acknowledged at once; the table and its ALIVE wait for the fence.
        #expect(Self.controls(held).map(\.flags) == [.ack] && held.first.flatMap { Self.controls([$0]).first?.range?.to } == 78, "\(held)")
        // The peer's own messages meanwhile: the ACK the timer owes them waits behind the
        // table's end too, or the peer would take it for the end.
        _ = s.receive(Self.data(79))
        s.fire(now: ns(3_200_000_000))
        #expect(s.transmit(now: ns(3_200_000_000)) { (.flowUpdate, Self.flowBody($0, version: 1)) }.isEmpty)
        _ = s.receive(SyncMessage.control(.ack(1, 3, sequence: 80)))
        let answer = s.transmit(now: ns(3_300_000_000)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(answer.map(\.type) == [.flowUpdate, .flowUpdate, .flowUpdate, .control, .control], "\(answer)")
        #expect(Self.controls(answer).map(\.flags) == [.alive, .ack], "\(answer)")
    }

    /// Both nodes restarted and each answers the other's resync: each holds its table's
    /// end and the ACKs behind it until its fence is acknowledged, so the ACK of the
    /// other's fence must still go out, or each would wait for the other for ever.
    @Test func theFencesAckGoesOutWhileATablesEndIsHeld() {
        var s = Engine(firstSequence: 1, now: ns(0))
        s.fire(now: ns(1_000_000_000))
        _ = s.transmit(now: ns(1_000_000_000)) { _ in nil }                 // HELLO, 1
        // The peer restarted too: it says HELLO and answers ours.
        _ = s.receive(SyncMessage.control(.ack(1, 1, sequence: 77, handshake: [.hello, .helloBack])))
        _ = s.receive(SyncMessage.control(.resync(sequence: 78)))
        s.acknowledgeReceived()
        for k in 0..<3 { s.enqueue(k) }
        s.markEndOfTable()
        let first = s.transmit(now: ns(1_100_000_000)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(first.allSatisfy { $0.type == .control }, "\(first)")                // our fence and HELLO_BACK; the table waits
        _ = s.receive(SyncMessage.control(.alive(sequence: 79)))            // the peer's fence
        let out = s.transmit(now: ns(1_200_000_000)) { (.flowUpdate, Self.flowBody($0, version: 1)) }
        #expect(Self.controls(out).contains { $0.flags.contains(.ack) && $0.range?.to == 79 }, "\(out)")
        #expect(!out.contains { $0.type == .flowUpdate }, "\(out)")
    }

    /// After answering a HELLO, the peer's fence (its first ALIVE) is acknowledged at once,
    /// not when the window fills or we fall quiet: its data waits for that ACK.
    @Test func theRestartedPeersFenceIsAcknowledgedAtOnce() {
        var s = Engine(firstSequence: 1, now: ns(0))
        _ = s.receive(SyncMessage.control(.alive(sequence: 40, handshake: .hello)))
        s.fire(now: ns(1_000_000_000))
        _ = s.transmit(now: ns(1_000_000_000)) { _ in nil }                 // says HELLO_BACK
        _ = s.receive(SyncMessage.control(.alive(sequence: 41)))            // the peer's fence
        let out = s.transmit(now: ns(1_100_000_000)) { _ in nil }
        #expect(Self.controls(out).contains { $0.flags.contains(.ack) && $0.range?.to == 41 }, "\(out)")
        // Only the fence: later ALIVEs wait for the window or the timer again.
        _ = s.receive(SyncMessage.control(.alive(sequence: 42)))
        #expect(s.transmit(now: ns(1_200_000_000)) { _ in nil }.isEmpty)
    }

    @Test func malformedControlIsCountedAndNotSequenced() {
        var c = Engine(firstSequence: 1, now: ns(0))
        _ = c.receive(Self.data(10))
        let bad = SyncMessage.control(ControlMessage(flags: .ack, sequence: 11, range: ClosedRangeOfSequences(from: 50, to: 40)))
        #expect(c.receive(bad) == [.malformed(bad)])
        #expect(c.counters.malformedHeader == 1)
        #expect(c.tracker.last == 10)
    }

    @Test func resendQueueOverflowDropsTheOldest() {
        var s = Engine(configuration: .compatible(resendQueueSize: 3), firstSequence: 1, now: ns(0))
        for k in 0..<5 { s.enqueue(k) }
        _ = s.transmit(now: ns(0)) { (.flowDestroy, Self.flowBody($0, version: 1)) }
        #expect(s.resendQueueCount == 3)
        #expect(s.counters.resendQueueOverflows == 2)
        #expect(Set(s.takeReleased()) == [0, 1])
    }
}

/// Two FTFW nodes over a channel that loses, reorders and duplicates datagrams: every
/// flow reaches the peer in its last state, nothing is applied twice out of order, and
/// a state never moves backwards.
@Suite struct FTFWConvergenceTests {
    typealias Engine = FTFWEngine<Int>

    struct Datagram {
        var deliverAt: UInt64
        var order: UInt64
        var bytes: [UInt8]
        var toB: Bool
    }

    struct Outcome {
        var converged: Bool
        var retransmitted: Int
        var regressions: Int
        var lost: Int
        var differences: String = ""
        var delivered = 0
        var expected = 0
        /// A's messages sent again because B's ACKs had passed over them.
        var passedOver = 0
    }

    static func sequenceIn(_ x: UInt32, _ lo: UInt32, _ hi: UInt32) -> Bool { (hi &- lo) >= (x &- lo) }

    static func simulate(seed: UInt64, flows: Int, loss: UInt64, duplicate: UInt64, jitterMilliseconds: UInt64, replication: Bool = true, burst: Bool = false, configuration: Engine.Configuration = .init(ackWindowSize: 50), watch: Int? = nil, watchSeqs: [UInt32] = []) -> Outcome {
        let ms: UInt64 = 1_000_000
        var rng = SplitMix64(seed: seed)
        var a = Engine(configuration: configuration, firstSequence: 1_000_000, now: ns(0))
        var b = Engine(configuration: configuration, firstSequence: 7, now: ns(0))
        var receiverA = SyncReceiver()
        var receiverB = SyncReceiver()
        // A's localCache cache: key → (version, dead); B's external cache: key → version.
        var localCache: [Int: (version: UInt32, dead: Bool)] = [:]
        var live: [Int] = [] // random picks come from an array: dictionary order is seeded per process
        var external: [Int: UInt32] = [:]
        var highest: [Int: UInt32] = [:]
        var regressions = 0
        var wire: [Datagram] = []
        var order: UInt64 = 0

        func render(_ key: Int) -> (SyncMessageType, SyncMessage.Body)? {
            guard let s = localCache[key] else { return nil }
            var f = SyncedFlow()
            f.source = .v4(0x0a00_0000 | UInt32(key))
            f.destination = .v4(0x0a63_0001)
            f.protocolNumber = 6
            f.ports = SyncPorts(source: UInt16(truncatingIfNeeded: key), destination: 22)
            f.status = 0xe
            f.mark = s.version
            return (s.dead ? .flowDestroy : .flowUpdate, .flow(f))
        }

        func send(_ messages: [SyncMessage], now: UInt64, toB: Bool) {
            guard !messages.isEmpty else { return }
            // One datagram per transmit run, as conntrackd batches up to the MTU.
            var bytes: [UInt8] = []
            for m in messages { m.encode(into: &bytes) }
            if !replication && toB { return }
            if rng.next() % 100 < loss { return }
            let copies = rng.next() % 100 < duplicate ? 2 : 1
            for _ in 0..<copies {
                order += 1
                wire.append(Datagram(deliverAt: now + ms + (rng.next() % (jitterMilliseconds + 1)) * ms, order: order, bytes: bytes, toB: toB))
            }
        }

        let changesUntil: UInt64 = 20_000 * ms
        let end: UInt64 = 90_000 * ms
        var now: UInt64 = 0
        var nextKey = 0
        while now < end {
            if burst {
                while nextKey < flows {
                    localCache[nextKey] = (1, false)
                    a.enqueue(nextKey)
                    nextKey += 1
                }
            } else if now < changesUntil {
                // Create), update and destroy flows.
                for _ in 0..<(flows / 1500 + 1) where nextKey < flows {
                    localCache[nextKey] = (1, false)
                    live.append(nextKey)
                    a.enqueue(nextKey)
                    nextKey += 1
                }
                for _ in 0..<2 where !live.isEmpty {
                    let i = Int(rng.next() % UInt64(live.count))
                    let key = live[i]
                    if rng.next() % 20 != 0 {
                        localCache[key]!.version += 1
                    } else {
                        localCache[key]!.dead = true
                        live.swapAt(i, live.count - 1)
                        live.removeLast()
                    }
                    a.enqueue(key)
                }
            }
            a.fire(now: ns(now))
            b.fire(now: ns(now))
            let sentByA = a.transmit(now: ns(now), render: render)
            if let watch { for m in sentByA { if case .flow(let f) = m.body, f.source == .v4(0x0a00_0000 | UInt32(watch)) { print("t=\(now/ms) A sends seq=\(m.sequence) \(m.type) v=\(f.mark!)") } else if case .control(let c) = m.body { if c.flags.contains(.nack) || c.flags.contains(.ack) { } } } }
            send(sentByA, now: now, toB: true)
            send(b.transmit(now: ns(now)) { _ in nil }, now: now, toB: false)
            for k in a.takeReleased() where localCache[k]?.dead == true {
                if k == watch { print("t=\(now/ms) A releases \(k)") }
                localCache[k] = nil
            }
            // Deliver what is due, in arrival order (jitter reorders).
            let due = wire.filter { $0.deliverAt <= now }.sorted { ($0.deliverAt, $0.order) < ($1.deliverAt, $1.order) }
            wire.removeAll { $0.deliverAt <= now }
            a.receiving(at: ns(now))
            b.receiving(at: ns(now))
            for d in due {
                if d.toB {
                    for r in receiverB.receive(datagram: d.bytes) {
                        guard case .message(let m) = r else { continue }
                        for e in b.receive(m) {
                            guard case .apply(let msg) = e, case .flow(let f) = msg.body, let src = f.source, case .v4(let v) = src else { continue }
                            let key = Int(v & 0xffffff)
                            let version = f.mark ?? 0
                            if version < highest[key, default: 0] { regressions += 1 }
                            highest[key] = max(highest[key, default: 0], version)
                            if key == watch { print("t=\(now/ms) B applies seq=\(msg.sequence) \(msg.type) v=\(version)") }
                            if msg.type == .flowDestroy { external[key] = nil } else { external[key] = version }
                        }
                    }
                } else {
                    for r in receiverA.receive(datagram: d.bytes) {
                        if case .message(let m) = r {
                            if watch != nil, case .control(let c) = m.body, let r = c.range, c.flags.contains(.ack) || c.flags.contains(.nack) {
                                if watchSeqs.contains(where: { sequenceIn($0, r.from, r.to) }) { print("t=\(now/ms) A gets \(c.flags.rawValue) [\(r.from),\(r.to)] flags=\(m.flags.rawValue)") }
                            }
                            _ = a.receive(m)
                        }
                    }
                }
            }
            now += 10 * ms
        }
        let expected = localCache.filter { !$0.value.dead }.mapValues(\.version)
        var diffs: [String] = []
        for (k, v) in expected where external[k] != v { diffs.append("\(k): want \(v) have \(external[k].map(String.init) ?? "none")") }
        for (k, v) in external where expected[k] == nil { diffs.append("\(k): stale \(v) dead=\(localCache[k]?.dead as Any)") }
        return Outcome(converged: expected == external && nextKey == flows, retransmitted: a.counters.retransmitted,
                       regressions: regressions, lost: b.tracker.lost, differences: diffs.prefix(10).joined(separator: "; "),
                       delivered: external.count, expected: expected.count, passedOver: a.counters.passedOverRetransmissions)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func everyFlowArrivesDespiteLossReorderingAndDuplication(seed: UInt64) {
        let o = Self.simulate(seed: seed, flows: 3000, loss: 20, duplicate: 5, jitterMilliseconds: 30)
        #expect(o.converged, "\(o.differences)")
        #expect(o.regressions == 0)
        #expect(o.retransmitted > 0)
        #expect(o.lost > 0)
    }

    /// The issue's figure: 10k flows through 20% loss plus reordering.
    @Test func tenThousandFlowsThroughTwentyPercentLoss() {
        let o = Self.simulate(seed: 10_000, flows: 10_000, loss: 20, duplicate: 2, jitterMilliseconds: 40)
        #expect(o.converged)
        #expect(o.regressions == 0)
        #expect(o.retransmitted > 0)
        #expect(o.lost > 0)
    }

    /// The daemon's settings (ACK window 300, ACKs within 5 ms, hardened), one burst of
    /// 10k flows that never change again, 20% loss both ways: only the first transmissions
    /// and their repair can bring the flows, and a loss whose NACK is lost too (or
    /// refused as a second wide one within a second) must not leave a message in the
    /// resend queue for good. Before the fix, enough such messages held back-pressure shut,
    /// and the peer kept 0-5,400 of the 10k (the CI's lossy-relay run: B had 0).
    static func burst(seed: UInt64, retransmitsPassedOver: Bool) -> Outcome {
        simulate(seed: seed, flows: 10_000, loss: 20, duplicate: 2, jitterMilliseconds: 30, burst: true,
                 configuration: .init(ackWindowSize: 300, acknowledgementDelay: .milliseconds(5), hardened: true,
                                      retransmitsPassedOver: retransmitsPassedOver))
    }

    @Test(arguments: Array(UInt64(1)...12))
    func aBurstWithoutLaterChangesArrivesWhole(seed: UInt64) {
        let o = Self.burst(seed: seed, retransmitsPassedOver: true)
        #expect(o.converged, "\(o.delivered) of \(o.expected): \(o.differences)")
        #expect(o.regressions == 0)
    }

    /// The control: without retransmitting what the peer's ACKs passed over, some bursts
    /// stall, and the same bursts arrive whole with it. The seeds are ones that stall
    /// (found by trying 1-40 once bare ACKs stopped being acknowledged within 5 ms, which
    /// changed every run's course; before, 1, 6, 8 and 10 did).
    @Test func withoutPassedOverRetransmissionsABurstStalls() {
        let seeds: [UInt64] = [16, 21, 32]
        let stalled = seeds.filter { !Self.burst(seed: $0, retransmitsPassedOver: false).converged }
        #expect(!stalled.isEmpty, "every burst arrived without the passed-over retransmissions")
        for seed in stalled {
            let o = Self.burst(seed: seed, retransmitsPassedOver: true)
            #expect(o.converged && o.passedOver > 0, "seed \(seed): \(o.delivered) of \(o.expected)")
        }
    }

    @Test func cleanChannelNeedsNoRetransmission() {
        let o = Self.simulate(seed: 9, flows: 2000, loss: 0, duplicate: 0, jitterMilliseconds: 0)
        #expect(o.converged && o.retransmitted == 0 && o.lost == 0)
    }

    /// The control: with replication cut, the peer ends up without the flows.
    @Test func withoutReplicationTheFlowsDoNotArrive() {
        let o = Self.simulate(seed: 4, flows: 500, loss: 0, duplicate: 0, jitterMilliseconds: 0, replication: false)
        #expect(!o.converged)
        #expect(o.expected > 0 && o.delivered == 0)
    }
}

/// Two nodes started together, each asking for the other's table and answering the
/// other's request (`tandem run` on both ends of a TCP link, seen deadlocking in 2 of 5
/// starts): both tables and their ends must get through on a perfect channel, whatever
/// the latency and the order the first messages cross in.
@Suite struct FTFWCrossedResyncTests {
    typealias Engine = FTFWEngine<Int>

    struct Node {
        var engine: Engine
        var received: Set<Int> = []
        /// Messages on their way to this node, with the step they arrive at.
        var inbound: [(at: Int, message: SyncMessage)] = []
    }

    /// Hands `messages` to node `n` as the daemon would: flows kept, a resync request
    /// answered with the ACK of what was received, its table (`base` ..< `base` + 3) and the end.
    static func deliver(_ messages: [SyncMessage], to n: inout Node, base: Int) {
        for m in messages {
            for e in n.engine.receive(m) {
                switch e {
                case .apply(let d):
                    if case .flow(let f) = d.body, case .v4(let s)? = f.source { n.received.insert(Int(s & 0xffff)) }
                case .resyncRequested:
                    n.engine.acknowledgeReceived()
                    for k in base ..< base + 3 { n.engine.enqueue(k) }
                    n.engine.markEndOfTable()
                default: break
                }
            }
        }
    }

    /// `bStart`: the 10-ms step B starts at (what A sent before waits for it, as a TCP
    /// connection's queue does); `latency`: steps a message takes each way.
    static func run(bStart: Int, latency: Int, steps: Int = 1_500) -> (a: Node, b: Node) {
        var a = Node(engine: Engine(firstSequence: 1_000, now: ns(0)))
        var b = Node(engine: Engine(firstSequence: 9_000, now: ns(0)))
        func step(_ n: inout Node, base: Int, at i: Int, now: Instant) -> [SyncMessage] {
            let due = n.inbound.filter { $0.at <= i }
            n.inbound.removeAll { $0.at <= i }
            Self.deliver(due.map(\.message), to: &n, base: base)
            n.engine.fire(now: now)
            return n.engine.transmit(now: now) { k in (.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) }
        }
        for i in 0 ..< steps {
            let now = ns(UInt64(i) * 10_000_000)
            if i == 0 { a.engine.requestResync() }
            if i == bStart { b.engine.requestResync() }
            let toB = step(&a, base: 100, at: i, now: now)
            let toA = i >= bStart ? step(&b, base: 200, at: i, now: now) : []
            b.inbound += toB.map { (max(i + latency, bStart), $0) }
            a.inbound += toA.map { (i + latency, $0) }
        }
        return (a, b)
    }

    /// The crossing seen over TCP: both nodes have said HELLO and heard the other's, then
    /// both ask for the other's table at once. Each request arrives with HELLO_BACK, so
    /// each node's handshake completes in the turn that also queues the ACK of the
    /// other's request: that ACK used to take the fence's number, the peer (which
    /// acknowledges only an ALIVE fence at once) waited for an idle tick, and each held
    /// its idle ticks behind its own table's end until its own fence was acknowledged.
    /// `losingBothFences`: the channel drops each node's first ALIVE after the handshake
    /// (its fence): the holds then give way after their limit, and the handshakes finish.
    @Test(arguments: [false, true])
    func requestsThatCrossAfterTheHellosStillGetTheirTables(losingBothFences: Bool) {
        var a = Node(engine: Engine(firstSequence: 1_000, now: ns(0)))
        var b = Node(engine: Engine(firstSequence: 9_000, now: ns(0)))
        func deliver(_ messages: [SyncMessage], to n: inout Node, base: Int) { Self.deliver(messages, to: &n, base: base) }
        let render = { (k: Int) in (SyncMessageType.flowUpdate, FTFWEngineTests.flowBody(k, version: 1)) }
        a.engine.fire(now: ns(1_000_000_000))
        b.engine.fire(now: ns(1_000_000_000))
        let helloA = a.engine.transmit(now: ns(1_000_000_000), render: render)
        let helloB = b.engine.transmit(now: ns(1_000_000_000), render: render)
        deliver(helloB, to: &a, base: 100)
        deliver(helloA, to: &b, base: 200)
        a.engine.requestResync()
        b.engine.requestResync()
        let requestA = a.engine.transmit(now: ns(1_010_000_000), render: render)
        let requestB = b.engine.transmit(now: ns(1_010_000_000), render: render)
        #expect(requestA.contains { $0.flags.isSuperset(of: [.resync, .helloBack]) }, "\(requestA)")
        deliver(requestB, to: &a, base: 100)
        deliver(requestA, to: &b, base: 200)
        var fencesToLose = losingBothFences ? 2 : 0
        func dropFence(_ messages: [SyncMessage]) -> [SyncMessage] {
            guard fencesToLose > 0, let i = messages.firstIndex(where: { $0.flags.contains(.alive) && !$0.flags.contains(.hello) })
            else { return messages }
            fencesToLose -= 1
            var kept = messages
            kept.remove(at: i)
            return kept
        }
        for i in 2 ..< 600 {
            let now = ns(1_000_000_000 + UInt64(i) * 10_000_000)
            a.engine.fire(now: now)
            b.engine.fire(now: now)
            let toB = dropFence(a.engine.transmit(now: now, render: render))
            let toA = dropFence(b.engine.transmit(now: now, render: render))
            deliver(toA, to: &a, base: 100)
            deliver(toB, to: &b, base: 200)
        }
        #expect(a.received == [200, 201, 202], "A got \(a.received.sorted())")
        #expect(b.received == [100, 101, 102], "B got \(b.received.sorted())")
        #expect(!a.engine.hasPendingTransmit && !b.engine.hasPendingTransmit, "a node still holds what it has to send")
        #expect(fencesToLose == 0, "the channel dropped both fences")
    }

    @Test(arguments: [0, 1, 2, 5, 50, 100], [0, 1, 3, 30, 99, 100, 101])
    func bothTablesGetThrough(bStart: Int, latency: Int) {
        let (a, b) = Self.run(bStart: bStart, latency: latency)
        #expect(a.received == [200, 201, 202], "A got \(a.received.sorted())")
        #expect(b.received == [100, 101, 102], "B got \(b.received.sorted())")
        #expect(!a.engine.hasPendingTransmit && !b.engine.hasPendingTransmit, "a node still holds what it has to send")
    }
}
