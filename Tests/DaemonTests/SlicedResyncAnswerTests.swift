import Daemon
import StateSync
import Testing
import TestSupport
import Timekeeping

/// A resync answer queued a slice a turn (`BulkWalk`) must not show the requester anything
/// it takes for the table's end before the end: it reads the first idle tick after its
/// request's ACK as the end, and any ACK not covering its request as such a tick
/// (`ResyncProgress`, as the daemon feeds it).
struct SlicedResyncAnswerTests {
    typealias Engine = FTFWEngine<Int>
    static let request: UInt32 = 71

    /// The flows' contents do not matter here: one fixture for all.
    static func body(_ k: Int) -> SyncMessage.Body { .flow(SyncedFlow(flow: FlowFixtures.tcp)) }

    /// The answer's messages in order: two slices of three flows, the peer's data and the
    /// alive timer between them, then the end. `answering`: the engine is told.
    static func answer(answering: Bool) -> [SyncMessage] {
        var a = Engine(configuration: .compatible(), firstSequence: 1, now: ns(0))
        let data = { (s: UInt32) in SyncMessage(type: .flowUpdate, sequence: s, body: body(1)) }
        _ = a.receive(data(70))
        _ = a.receive(SyncMessage.control(.resync(sequence: request)))
        a.acknowledgeReceived()
        if answering { a.answering(request: a.resyncRequestReceived) }
        let render = { (k: Int) in (SyncMessageType.flowNew, body(k)) }
        var out: [SyncMessage] = []
        for k in 0 ..< 3 { a.enqueue(k) }
        out += a.transmit(now: ns(100_000_000), render: render)
        // Between slices: the peer's message, then the alive timer with nothing sent since.
        _ = a.receive(data(72))
        a.fire(now: ns(1_200_000_000))
        out += a.transmit(now: ns(1_200_000_000), render: render)
        // The peer sends nothing, the timer fires again: a bare tick.
        a.fire(now: ns(2_300_000_000))
        out += a.transmit(now: ns(2_300_000_000), render: render)
        for k in 3 ..< 6 { a.enqueue(k) }
        out += a.transmit(now: ns(2_400_000_000), render: render)
        if answering { a.answered() }
        a.markEndOfTable()
        out += a.transmit(now: ns(2_500_000_000), render: render)
        return out
    }

    /// How many flows the requester holds when it counts its resync complete.
    static func flowsAtCompletion(_ messages: [SyncMessage]) -> Int? {
        var progress = ResyncProgress()
        progress.requested(now: ns(0))
        var flows = 0
        for m in messages {
            guard case .control(let c) = m.body else { flows += 1; continue }
            if c.flags.contains(.ack), let r = c.range, r.contains(request) {
                progress.requestAcknowledged()
            } else if c.flags.contains(.ack) || c.flags.contains(.alive) {
                if progress.receivedTick(now: ns(1)) { return flows }
            }
        }
        return nil
    }

    @Test func theRequesterCountsItsTableWholeOnlyAtTheEnd() {
        let told = Self.answer(answering: true)
        #expect(Self.flowsAtCompletion(told) == 6, "\(told)")
        // The ACK owed for the peer's message still went out, reaching back to the request.
        #expect(told.contains { if case .control(let c) = $0.body { c.flags.contains(.ack) && c.range?.to == 72 } else { false } })
    }

    @Test func untoldTheTimersAckEndsItAfterTheFirstSlice() {
        // The control: the same answer with the engine not told.
        #expect(Self.flowsAtCompletion(Self.answer(answering: false)) == 3)
    }

    @Test func noAckReachesBackOverALostMessage() {
        var a = Engine(configuration: .compatible(), firstSequence: 1, now: ns(0))
        let data = { (s: UInt32) in SyncMessage(type: .flowUpdate, sequence: s, body: Self.body(1)) }
        _ = a.receive(data(70))
        _ = a.receive(SyncMessage.control(.resync(sequence: Self.request)))
        a.acknowledgeReceived()
        a.answering(request: a.resyncRequestReceived)
        _ = a.receive(data(72))
        a.fire(now: ns(1_200_000_000))
        var out = a.transmit(now: ns(1_200_000_000)) { (.flowNew, Self.body($0)) }
        // Reaching back while all since the request has arrived.
        #expect(Self.ranges(out, .ack).contains { $0.contains(Self.request) && $0.to == 72 }, "\(out)")
        // 73 is lost: NACKed, and no ACK after it may cover it.
        _ = a.receive(data(74))
        a.fire(now: ns(2_400_000_000))
        out = a.transmit(now: ns(2_400_000_000)) { (.flowNew, Self.body($0)) }
        #expect(Self.ranges(out, .nack).contains { $0.contains(73) }, "\(out)")
        #expect(Self.ranges(out, .ack).allSatisfy { !$0.contains(73) }, "\(out)")
        #expect(!Self.ranges(out, .ack).isEmpty, "\(out)")
    }

    static func ranges(_ messages: [SyncMessage], _ flag: SyncFlags) -> [ClosedRangeOfSequences] {
        messages.compactMap { m in
            guard case .control(let c) = m.body, c.flags.contains(flag) else { return nil }
            return c.range
        }
    }
}
