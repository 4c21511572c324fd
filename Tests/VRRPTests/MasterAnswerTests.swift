import Testing
import VRRP
import IPAddressing
import Timekeeping
import TestSupport

/// What a MASTER does with adverts that do not end its mastership, and how long a backup
/// waits: keepalived 2.2.7's garp_lower_prio_repeat / _delay, lower_prio_no_advert,
/// higher_prio_send_advert and down_timer_adverts (vrrp_state_master_rx, VRRP_MS_DOWN_TIMER).
/// Each test runs the option and, as its control, the machine without it.
@Suite struct MasterAnswerTests {
    static let own = IPAddress("10.0.0.2")!
    static let lower = IPAddress("10.0.0.1")!
    static let higher = IPAddress("10.0.0.3")!
    typealias M = InstanceMachine

    /// A master at priority 100, interval 1 s, made MASTER at 0 (an owner-less start plus
    /// the down interval), so every test starts from the same instant.
    static func master(_ tweak: (inout M.Parameters) -> Void = { _ in }) -> M {
        var p = M.Parameters(priority: 100, address: own)
        tweak(&p)
        var m = M(p)
        _ = m.start(now: us(0))
        #expect(m.masterDownDeadline == t)
        #expect(m.fire(now: t).contains(.addAddresses))
        return m
    }

    /// 3 × 1 s + skew(100) = 609,375 µs.
    static let t = us(3_609_375)

    static func announcements(_ actions: [M.Action]) -> [Int] {
        actions.compactMap { if case .announce(let r) = $0 { r } else { nil } }
    }

    @Test func lowerPriorityAdvertIsAnsweredWithGARPRoundsAndLaterAgain() {
        let t = Self.t
        var m = Self.master { $0.lowerPriorityGARPRepeat = 3; $0.lowerPriorityGARPDelay = .seconds(5) }
        let heardAt = t + .milliseconds(300)
        let actions = m.receive(.init(priority: 50, source: Self.lower), now: heardAt)
        #expect(actions == [.heardLowerPriority(50), .sendAdvertisement(priority: 100), .announce(repeats: 3)])
        // The second round is owed at +5 s, interleaved with the ordinary adverts.
        #expect(m.lowerPriorityGARPDeadlines == [heardAt + .seconds(5)])
        var rounds = 0
        var clock = heardAt
        while clock < heardAt + .seconds(6) {
            clock = m.nextDeadline!
            rounds += Self.announcements(m.fire(now: clock)).count
        }
        #expect(rounds == 1)
        #expect(m.lowerPriorityGARPDeadlines.isEmpty)
    }

    @Test func withoutGARPRepeatTheAnswerIsTheAdvertAlone() {
        // Control for the above: repeat 0 (strict mode's default) announces nothing.
        let t = Self.t
        var m = Self.master { $0.lowerPriorityGARPRepeat = 0; $0.lowerPriorityGARPDelay = .seconds(5) }
        let actions = m.receive(.init(priority: 50, source: Self.lower), now: t + .milliseconds(300))
        #expect(actions == [.heardLowerPriority(50), .sendAdvertisement(priority: 100)])
        #expect(m.lowerPriorityGARPDeadlines.isEmpty)
    }

    @Test func zeroDelayMeansNoSecondRound() {
        let t = Self.t
        var m = Self.master { $0.lowerPriorityGARPRepeat = 2; $0.lowerPriorityGARPDelay = .zero }
        #expect(Self.announcements(m.receive(.init(priority: 50, source: Self.lower), now: t + .milliseconds(300))) == [2])
        #expect(m.lowerPriorityGARPDeadlines.isEmpty)
    }

    /// keepalived never cancels the delayed round's timer: an instance that lost MASTER and
    /// won it back before the round is due still sends it ...
    @Test func aSecondRoundOwedAcrossALostMastershipIsSentWhenMasterAgain() {
        let t = Self.t
        var m = Self.master { $0.lowerPriorityGARPRepeat = 2; $0.lowerPriorityGARPDelay = .seconds(5) }
        _ = m.receive(.init(priority: 50, source: Self.lower), now: t + .milliseconds(100))
        _ = m.receive(.init(priority: 200, source: Self.higher), now: t + .milliseconds(200))
        #expect(m.state == .backup && m.lowerPriorityGARPDeadlines == [t + .milliseconds(5_100)])
        // The higher master goes quiet: MASTER again at +200 ms + the down interval (3.61 s).
        var rounds: [Int] = []
        var clock = t
        while clock < t + .seconds(6) {
            clock = m.nextDeadline!
            rounds += Self.announcements(m.fire(now: clock))
        }
        #expect(m.state == .master)
        #expect(rounds == [2])
        #expect(m.lowerPriorityGARPDeadlines.isEmpty)
    }

    /// ... and one that falls due while it is BACKUP is dropped, not saved for later (the
    /// control: the same owed round, but the instance stays BACKUP past it).
    @Test func aSecondRoundDueWhileBackupIsDropped() {
        let t = Self.t
        var m = Self.master { $0.lowerPriorityGARPRepeat = 2; $0.lowerPriorityGARPDelay = .seconds(5) }
        _ = m.receive(.init(priority: 50, source: Self.lower), now: t + .milliseconds(100))
        _ = m.receive(.init(priority: 200, source: Self.higher), now: t + .milliseconds(200))
        // The higher master keeps advertising every second: BACKUP throughout.
        var rounds: [Int] = []
        var clock = t + .milliseconds(200)
        for second in 1...8 {
            clock = t + .milliseconds(200) + .seconds(second)
            if let d = m.nextDeadline, d < clock { rounds += Self.announcements(m.fire(now: d)) }
            _ = m.receive(.init(priority: 200, source: Self.higher), now: clock)
        }
        #expect(m.state == .backup)
        #expect(rounds.isEmpty && m.lowerPriorityGARPDeadlines.isEmpty)
        // MASTER later: nothing owed any more.
        clock = m.nextDeadline!
        let actions = m.fire(now: clock)
        #expect(m.state == .master && Self.announcements(actions).isEmpty)
    }

    @Test func lowerPriorityNoAdvertStaysSilentAndKeepsItsRhythm() {
        let t = Self.t
        var quiet = Self.master { $0.lowerPriorityNoAdvert = true }
        let at = t + .milliseconds(400)
        #expect(quiet.receive(.init(priority: 50, source: Self.lower), now: at) == [.heardLowerPriority(50)])
        // Its advert timer is not restarted by what it heard.
        #expect(quiet.nextDeadline == t + .seconds(1))
        // Control: keepalived's default answers and counts its interval from the answer.
        var answering = Self.master()
        #expect(answering.receive(.init(priority: 50, source: Self.lower), now: at) == [.heardLowerPriority(50), .sendAdvertisement(priority: 100)])
        #expect(answering.nextDeadline == at + .seconds(1))
    }

    @Test func higherPrioritySendAdvertSpeaksOnceBeforeSteppingDown() {
        let t = Self.t
        var m = Self.master { $0.higherPriorityAdvert = true }
        let actions = m.receive(.init(priority: 200, source: Self.higher), now: t + .milliseconds(100))
        #expect(actions.first == .sendAdvertisement(priority: 100))
        #expect(actions.dropFirst().first == .removeAddresses && m.state == .backup)
        // Equal priority from a higher address overrules too.
        let te = Self.t
        var e = Self.master { $0.higherPriorityAdvert = true }
        #expect(e.receive(.init(priority: 100, source: Self.higher), now: te + .milliseconds(100)).first == .sendAdvertisement(priority: 100))
        // Control: without it the master steps down silently.
        let tc = Self.t
        var c = Self.master()
        let plain = c.receive(.init(priority: 200, source: Self.higher), now: tc + .milliseconds(100))
        #expect(!plain.contains(.sendAdvertisement(priority: 100)) && plain.first == .removeAddresses && c.state == .backup)
    }

    @Test func siblingOfAMasterHearingLowerAnnouncesOnlyWhenMaster() {
        let t = Self.t
        var m = Self.master { $0.lowerPriorityGARPRepeat = 2 }
        #expect(m.siblingHeardLowerPriority(now: t) == [.announce(repeats: 2)])
        var b = M(.init(priority: 100, address: Self.own, lowerPriorityGARPRepeat: 2))
        _ = b.start(now: us(0))
        #expect(b.siblingHeardLowerPriority(now: us(1)).isEmpty)
    }

    @Test(arguments: [UInt64(1), 3, 5, 10])
    func downTimerAdvertsSetsTheAdvertsMissedBeforeTakeover(_ adverts: UInt64) {
        // interval 1 s, priority 100: skew 609,375 µs.
        var m = M(.init(priority: 100, address: Self.own, downTimerAdverts: adverts))
        _ = m.start(now: us(0))
        _ = m.receive(.init(priority: 150, source: Self.higher), now: us(1_000_000))
        let down = adverts * 1_000_000 + 609_375
        #expect(m.masterDownInterval == µs(Int64(down)))
        #expect(m.fire(now: us(1_000_000 + down - 1)).isEmpty)
        #expect(m.fire(now: us(1_000_000 + down)).first == .transition(from: .backup, to: .master))
    }
}
