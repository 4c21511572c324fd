import StateSync
import TestSupport
import Testing
import Timekeeping

/// The sync link's guards without a key (docs/sync-hardening.md), with a virtual clock:
/// the sequence-jump guard, the rate limit on costly control messages, and the FTFW
/// engine's refusals. Each refusal is shown against its control (hardening off).
@Suite struct SyncHardeningTests {
    typealias Engine = FTFWEngine<Int>
    static let second: UInt64 = 1_000_000_000
    static func ms(_ m: UInt64) -> Instant { ns(m * 1_000_000) }

    // MARK: sequence-jump guard

    /// `judge` outside `#expect`, which cannot take a mutating call.
    func verdict(_ g: inout SequenceJumpGuard, sequence: UInt32, hello: Bool, expected: UInt32?, now: Instant) -> SequenceJumpGuard.Verdict {
        g.judge(sequence: sequence, hello: hello, expected: expected, now: now)
    }

    func permit(_ r: inout ControlMessageRateLimit, _ work: ControlMessageRateLimit.Work, now: Instant) -> Bool {
        r.permit(work, now: now)
    }

    @Test func theFirstMessageSetsTheLine() {
        var g = SequenceJumpGuard()
        let v1 = verdict(&g, sequence: 4_000_000_000, hello: false, expected: nil, now: ns(0))
        #expect(v1 == .admit)
    }

    @Test func inWindowMessagesPassAndAJumpIsRefused() {
        var g = SequenceJumpGuard()
        let v2 = verdict(&g, sequence: 101, hello: false, expected: 101, now: ns(0))
        #expect(v2 == .admit)
        // Loss within the window is loss: passed, the mode NACKs it.
        let v3 = verdict(&g, sequence: 101 + 65_536, hello: false, expected: 102, now: ns(0))
        #expect(v3 == .admit)
        let v4 = verdict(&g, sequence: 102 + 65_537, hello: false, expected: 102, now: ns(0))
        #expect(v4 == .unconfirmedJump)
        // Old messages are the mode's to drop, not the guard's.
        let v5 = verdict(&g, sequence: 5, hello: false, expected: 102, now: ns(0))
        #expect(v5 == .admit)
        #expect(g.refused == 1)
    }

    /// A forger sending a confirmed-looking run gets nowhere while the peer talks.
    @Test func aJumpedLineIsNotAdoptedWhileThePeerTalks() {
        var g = SequenceJumpGuard()
        var expected: UInt32 = 1000
        for i in 0 ..< 20 {
            let now = Self.ms(UInt64(i) * 500)
            let v6 = verdict(&g, sequence: expected, hello: false, expected: expected, now: now)
            #expect(v6 == .admit)
            expected += 1
            // The forger's run, four in order each time.
            for k in 0 ..< 4 {
                let v7 = verdict(&g, sequence: 9_000_000 + UInt32(i * 4 + k), hello: false, expected: expected, now: now)
                #expect(v7 == .unconfirmedJump)
            }
        }
        #expect(g.refused == 80)
        #expect(g.adopted == 0)
    }

    /// A restarted peer: its old line is dead and its new one counts on. Adopted once three
    /// messages followed the jump and the old line has been quiet for 2 s; not before.
    @Test func aRestartedPeersLineIsAdopted() {
        var g = SequenceJumpGuard()
        let v8 = verdict(&g, sequence: 500, hello: false, expected: 500, now: ns(0))
        #expect(v8 == .admit)
        let fresh: UInt32 = 3_000_000_000
        var verdicts: [SequenceJumpGuard.Verdict] = []
        for i in 0 ..< 4 {
            verdicts.append(verdict(&g, sequence: fresh + UInt32(i), hello: true, expected: 501, now: Self.ms(400 + UInt64(i) * 400)))
        }
        // Three followers by 1.6 s, but the old line spoke at 0 s: still refused.
        #expect(verdicts == Array(repeating: .unconfirmedJump, count: 4))
        let v9 = verdict(&g, sequence: fresh + 4, hello: true, expected: 501, now: Self.ms(2_000))
        #expect(v9 == .adoptLine(heldResyncRequest: nil))
        #expect(g.adopted == 1)
        // From then on it is the line.
        let v10 = verdict(&g, sequence: fresh + 5, hello: false, expected: fresh + 5, now: Self.ms(2_100))
        #expect(v10 == .admit)
    }

    /// A restarted peer's resync request, refused with the rest of its line until the line
    /// is confirmed, is handed back when the line is adopted (the peer would otherwise wait
    /// for its own repeat). Controls: a request on a line that is never adopted is never
    /// handed back, nor one of a run the line broke off from, nor one that itself adopts
    /// the line (the mode answers that one).
    @Test func aRestartedPeersResyncRequestIsHeldUntilItsLineIsAdopted() {
        func restart(requestAt request: Int?, breakAfterRequest: Bool = false, peerTalks: Bool = false) -> (verdicts: [SequenceJumpGuard.Verdict], guard: SequenceJumpGuard) {
            var g = SequenceJumpGuard()
            _ = g.judge(sequence: 500, hello: false, expected: 500, now: ns(0))
            let fresh: UInt32 = 3_000_000_000
            var verdicts: [SequenceJumpGuard.Verdict] = []
            // The mode's expectation: the old line's, until the new line is adopted.
            var expected: UInt32 = 501
            for i in 0 ..< 6 {
                let now = Self.ms(2_100 + UInt64(i) * 100)
                if peerTalks {
                    _ = g.judge(sequence: expected, hello: false, expected: expected, now: now)
                    expected += 1
                }
                let s = fresh + UInt32(i) + (breakAfterRequest && i > (request ?? 0) ? 10 : 0)
                let v = g.judge(sequence: s, hello: true, asksResync: i == request, expected: expected, now: now)
                if v != .unconfirmedJump && s >= fresh { expected = s + 1 }
                verdicts.append(v)
            }
            return (verdicts, g)
        }
        let held = restart(requestAt: 0)
        #expect(held.verdicts[0 ..< 3].allSatisfy { $0 == .unconfirmedJump })
        #expect(held.verdicts[3] == .adoptLine(heldResyncRequest: 3_000_000_000))
        #expect(held.verdicts[4 ... 5].allSatisfy { $0 == .admit })
        // Controls.
        let silentPeer = restart(requestAt: 0, peerTalks: true)
        #expect(silentPeer.verdicts.allSatisfy { $0 == .unconfirmedJump })
        #expect(silentPeer.guard.adopted == 0)
        let broken = restart(requestAt: 1, breakAfterRequest: true)
        #expect(broken.verdicts.contains(.adoptLine(heldResyncRequest: nil)))
        #expect(!broken.verdicts.contains { if case .adoptLine(.some) = $0 { true } else { false } })
        let confirming = restart(requestAt: 3)
        #expect(confirming.verdicts[3] == .adoptLine(heldResyncRequest: nil))
    }

    /// A message out of order restarts the count: only a run proves a line.
    @Test func confirmationsMustBeConsecutive() {
        var g = SequenceJumpGuard()
        let far: UInt32 = 7_000_000
        let v11 = verdict(&g, sequence: far, hello: false, expected: 10, now: Self.ms(3_000))
        #expect(v11 == .unconfirmedJump)
        let v12 = verdict(&g, sequence: far + 1, hello: false, expected: 10, now: Self.ms(3_000))
        #expect(v12 == .unconfirmedJump)
        let v13 = verdict(&g, sequence: far + 5, hello: false, expected: 10, now: Self.ms(3_000))
        #expect(v13 == .unconfirmedJump)
        let v14 = verdict(&g, sequence: far + 6, hello: false, expected: 10, now: Self.ms(3_000))
        #expect(v14 == .unconfirmedJump)
        let v15 = verdict(&g, sequence: far + 7, hello: false, expected: 10, now: Self.ms(3_000))
        #expect(v15 == .unconfirmedJump)
        let v16 = verdict(&g, sequence: far + 8, hello: false, expected: 10, now: Self.ms(3_000))
        #expect(v16 == .adoptLine(heldResyncRequest: nil))
    }

    /// HELLO skips the modes' own check, so a HELLO far behind is a jump too.
    @Test func aHelloFarBehindIsAJump() {
        var g = SequenceJumpGuard()
        let v17 = verdict(&g, sequence: 1_000_000 - 70_000, hello: true, expected: 1_000_000, now: ns(0))
        #expect(v17 == .unconfirmedJump)
        let v18 = verdict(&g, sequence: 1_000_000 - 70_000, hello: false, expected: 1_000_000, now: ns(0))
        #expect(v18 == .admit)
    }

    /// A forged gap within the window is taken as loss; when the line it left behind goes
    /// on in order while the gap's line stays silent for 2 s, the old line is resumed.
    @Test func aForgedGapWithinTheWindowIsUndone() {
        var g = SequenceJumpGuard()
        var expected: UInt32 = 1_000
        let first = verdict(&g, sequence: 1_000, hello: false, expected: expected, now: Self.ms(0))
        #expect(first == .admit)
        expected = 1_001
        // A second forged gap soon after must not hide the first.
        for forged: UInt32 in [61_000, 62_000] {
            let v = verdict(&g, sequence: forged, hello: false, expected: expected, now: Self.ms(100))
            #expect(v == .admit)
            expected = forged + 1
        }
        var verdicts: [SequenceJumpGuard.Verdict] = []
        for (i, at) in [UInt64(200), 500, 1_000, 2_200].enumerated() {
            verdicts.append(verdict(&g, sequence: 1_001 + UInt32(i), hello: false, expected: expected, now: Self.ms(at)))
        }
        #expect(verdicts == [.admit, .admit, .admit, .resumeOldLine(expecting: 1_001)])
        #expect(g.resumed == 1)
    }

    /// Our own resync request's answer, fallen behind by more than the window (a busy
    /// backup at 1M flows lost 683,287 messages of one), is loss: admitted at once. The
    /// control is the same jump with no answer awaited: refused.
    @Test func aJumpWhileOurResyncIsAnsweredIsLoss() {
        var awaiting = SequenceJumpGuard()
        var control = SequenceJumpGuard()
        _ = verdict(&awaiting, sequence: 1_000, hello: false, expected: 1_000, now: Self.ms(0))
        _ = verdict(&control, sequence: 1_000, hello: false, expected: 1_000, now: Self.ms(0))
        let answered = awaiting.judge(sequence: 700_000, hello: false, answerAwaited: true, expected: 1_001, now: Self.ms(10))
        let refused = control.judge(sequence: 700_000, hello: false, answerAwaited: false, expected: 1_001, now: Self.ms(10))
        #expect(answered == .admit)
        #expect(refused == .unconfirmedJump)
        // A HELLO far behind is still a jump: an answer comes on the line we follow.
        let hello = awaiting.judge(sequence: 700_001 &- 200_000, hello: true, answerAwaited: true, expected: 700_001, now: Self.ms(20))
        #expect(hello == .unconfirmedJump)
    }

    /// A forgery timed into that wait is watched as a gap within the window is: the
    /// peer's line goes on from where it stopped, the forged line stays silent, and after
    /// 2 s the old line is resumed.
    @Test func aForgedJumpWhileOurResyncIsAnsweredIsStillUndone() {
        var g = SequenceJumpGuard()
        _ = verdict(&g, sequence: 1_000, hello: false, expected: 1_000, now: Self.ms(0))
        let forged = g.judge(sequence: 5_000_000, hello: false, answerAwaited: true, expected: 1_001, now: Self.ms(100))
        #expect(forged == .admit)
        var verdicts: [SequenceJumpGuard.Verdict] = []
        for (i, at) in [UInt64(200), 500, 1_000, 2_200].enumerated() {
            verdicts.append(g.judge(sequence: 1_001 + UInt32(i), hello: false, answerAwaited: true, expected: 5_000_001, now: Self.ms(at)))
        }
        #expect(verdicts == [.admit, .admit, .admit, .resumeOldLine(expecting: 1_001)])
    }

    /// Control: real loss. The line after the gap talks, and a straggler from before it
    /// changes nothing.
    @Test func realLossIsNeverUndone() {
        var g = SequenceJumpGuard()
        _ = verdict(&g, sequence: 1_000, hello: false, expected: 1_000, now: Self.ms(0))
        var expected: UInt32 = 1_001
        for i in 0 ..< 12 {
            let s = 1_100 + UInt32(i)
            let v = verdict(&g, sequence: s, hello: false, expected: expected, now: Self.ms(UInt64(i) * 500))
            #expect(v == .admit)
            expected = s + 1
            let straggler = verdict(&g, sequence: 1_001 + UInt32(i), hello: false, expected: expected, now: Self.ms(UInt64(i) * 500 + 1))
            #expect(straggler == .admit)
        }
        #expect(g.resumed == 0)
    }

    // MARK: rate limit

    @Test func costlyWorkOncePerSecond() {
        var r = ControlMessageRateLimit()
        let v19 = permit(&r, .bulkSend, now: Self.ms(0))
        #expect(v19)
        let v20 = permit(&r, .bulkSend, now: Self.ms(999))
        #expect(!v20)
        let v21 = permit(&r, .resendQueueFlush, now: Self.ms(999))
        #expect(v21)
        let v22 = permit(&r, .bulkSend, now: Self.ms(1_000))
        #expect(v22)
        #expect(r.refused == 1)
        #expect(ControlMessageRateLimit.isWide(ClosedRangeOfSequences(from: 10, to: 10 + 1_024)))
        #expect(!ControlMessageRateLimit.isWide(ClosedRangeOfSequences(from: 10, to: 10 + 1_023)))
    }

    // MARK: FTFW engine

    /// An engine that sent five flows (sequence numbers 100–104) awaiting the peer's ACK.
    static func sender(hardened: Bool) -> Engine {
        var e = Engine(configuration: .init(holdDataUntilHandshake: false, hardened: hardened), firstSequence: 100, now: ns(0))
        for k in 0 ..< 5 { e.enqueue(k) }
        _ = e.transmit(now: ns(0)) { k in (.flowNew, FTFWEngineTests.flowBody(k, version: 1)) }
        return e
    }

    static func control(_ flags: SyncFlags, _ seq: UInt32, _ from: UInt32 = 0, _ to: UInt32 = 0) -> SyncMessage {
        .control(ControlMessage(flags: flags, sequence: seq, range: flags.isDisjoint(with: [.ack, .nack]) ? nil : ClosedRangeOfSequences(from: from, to: to)))
    }

    @Test func anAckBeyondWhatWasSentIsRefused() {
        var e = Self.sender(hardened: true)
        #expect(e.resendQueueCount == 5)
        e.receiving(at: ns(0))
        _ = e.receive(Self.control(.ack, 1, 0, 200))
        #expect(e.resendQueueCount == 5)
        #expect(e.counters.acknowledgementsBeyondSent == 1)
        // The genuine ACK still works.
        let events = e.receive(Self.control(.ack, 2, 100, 104))
        #expect(e.resendQueueCount == 0)
        #expect(events.contains(.peerAcknowledged(ClosedRangeOfSequences(from: 100, to: 104))))
        // Control: unhardened, the forged ACK empties the queue.
        var open = Self.sender(hardened: false)
        _ = open.receive(Self.control(.ack, 1, 0, 200))
        #expect(open.resendQueueCount == 0)
        #expect(open.counters.acknowledgementsBeyondSent == 0)
    }

    /// Every HELLO re-sends the resend queue; hardened, at most one a second does.
    @Test func helloFlushesAreRateLimited() {
        func run(hardened: Bool) -> (requeued: [Int], limited: Int) {
            var e = Self.sender(hardened: hardened)
            var requeued: [Int] = []
            for (i, at) in [UInt64(0), 300, 600, 1_100].enumerated() {
                e.receiving(at: Self.ms(at))
                _ = e.receive(Self.control(.alive.union(.hello), 50 + UInt32(i)))
                requeued.append(e.transmitQueueCount)
                _ = e.transmit(now: Self.ms(at)) { k in (.flowNew, FTFWEngineTests.flowBody(k, version: 1)) }
            }
            return (requeued, e.counters.rateLimited)
        }
        let hardened = run(hardened: true)
        #expect(hardened.requeued.map { $0 >= 5 } == [true, false, false, true])
        #expect(hardened.limited == 2)
        let open = run(hardened: false)
        #expect(open.requeued.allSatisfy { $0 >= 5 })
        #expect(open.limited == 0)
    }

    @Test func wideNacksAreRateLimitedNarrowOnesAreNot() {
        var e = Self.sender(hardened: true)
        e.receiving(at: Self.ms(0))
        _ = e.receive(Self.control(.nack, 1, 100, 100 + 2_000))
        #expect(e.transmitQueueCount == 5)
        _ = e.transmit(now: Self.ms(0)) { k in (.flowNew, FTFWEngineTests.flowBody(k, version: 1)) }
        e.receiving(at: Self.ms(500))
        _ = e.receive(Self.control(.nack, 2, 100, 100 + 2_000))
        #expect(e.transmitQueueCount == 0)
        #expect(e.counters.rateLimited == 1)
        // A narrow NACK (ordinary loss) is served at once.
        _ = e.receive(Self.control(.nack, 3, 105, 106))
        #expect(e.transmitQueueCount == 2)
    }
}
