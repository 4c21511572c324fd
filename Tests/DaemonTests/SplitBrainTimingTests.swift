@testable import Daemon
import Testing
import Timekeeping

/// The split-brain windows derived from the Master_Down_Interval (issue #19: a report
/// within 2 × MDI). With advert_int 0.1 (VRRPv3, priority 100, MDI 361 ms) the peer is a
/// Tandem heard every 75 ms (3/4 of the interval); each disagreement is reported within
/// 2 × MDI of the cut on a virtual clock ticking at the node's check period, and each
/// control reports nothing.
@Suite struct SplitBrainTimingTests {
    typealias Monitor = SplitBrainMonitor

    static let fast = SplitBrainTiming(advertInterval: .milliseconds(100))
    /// advert_int 0.1, VRRPv3, priority 100: 3 × 100 ms and a skew of 156 × 10 × 625 / 16 µs
    /// (keepalived's arithmetic, InstanceMachine.skew).
    static let mdiFast: Duration = .microseconds(300_000 + 60_937)

    @Test func windowsFollowTheAdvertInterval() {
        #expect(Self.fast.aliveInterval == .milliseconds(75) && Self.fast.checkPeriod == .microseconds(37_500))
        // advert_int 1: ALIVE every 750 ms, the old 250 ms period.
        let slow = SplitBrainTiming(advertInterval: .seconds(1))
        #expect(slow.aliveInterval == .milliseconds(750) && slow.checkPeriod == .milliseconds(250))
        // No instance: conntrackd's pace and the old period.
        let none = SplitBrainTiming(advertInterval: nil)
        #expect(none.aliveInterval == .seconds(1) && none.checkPeriod == .milliseconds(250))
        // A very short MDI does not make the loop spin.
        #expect(SplitBrainTiming(advertInterval: .milliseconds(10)).checkPeriod == .milliseconds(10))
    }

    static func t(_ seconds: Double) -> Instant { Instant(nanoseconds: UInt64(seconds * 1e9)) }
    static var mdi: Double { Self.mdiFast.secondsValue }
    static var alive: Double { Self.fast.aliveInterval.secondsValue }
    /// The latest multiple of `period` at or before `now`: a message sent every `period`.
    static func last(_ now: Double, every period: Double) -> Double { (now / period).rounded(.down) * period }

    static func instance(master: Bool, since: Double?, advert: (Double, UInt8)?, claim: Double? = nil) -> Monitor.InstanceView {
        Monitor.InstanceView(name: "V", isMaster: master, masterSince: since.map(t), masterDownInterval: Self.mdiFast,
                             peerAdvert: advert.map { Monitor.PeerAdvert(at: t($0.0), priority: $0.1, source: "10.0.0.1") },
                             lastClaimWhileMaster: claim.map(t))
    }

    static func sync(_ heard: Double, tandem: Bool = true) -> Monitor.SyncView {
        Monitor.SyncView(peer: "10.0.1.1", lastHeard: t(heard), peerInterval: tandem ? Self.fast.aliveInterval : .seconds(1))
    }

    /// The monitor run at the check period from 0 to 5 s; the cut at 2 s.
    static func run(_ at: (Double) -> (Monitor.InstanceView, Monitor.SyncView)) -> [(Double, Monitor.Report)] {
        var m = Monitor()
        var out: [(Double, Monitor.Report)] = []
        var now = 0.0
        while now <= 5 {
            let (i, s) = at(now)
            out += m.evaluate([i], sync: s, now: t(now)).map { (now, $0) }
            now += Self.fast.checkPeriod.secondsValue
        }
        return out
    }

    static let cut = 2.0

    /// VRRP cut both ways at 2 s: the backup takes over a MDI after the last advert and
    /// hears the peer's next ALIVE. The control: the peer died at the cut (its sync stops too).
    @Test(arguments: [true, false]) func aVRRPCutIsReportedWithinTwoMDI(peerAlive: Bool) {
        let lastAdvert = Self.last(Self.cut, every: 0.1), takeover = lastAdvert + Self.mdi
        let reports = Self.run { now in
            let master = now >= takeover
            let heard = peerAlive || now < Self.cut ? Self.last(now, every: Self.alive) : Self.last(Self.cut, every: Self.alive)
            return (Self.instance(master: master, since: master ? takeover : nil, advert: (min(Self.last(now, every: 0.1), lastAdvert), 100)),
                    Self.sync(heard))
        }
        if peerAlive {
            #expect(reports.map(\.1.kind) == [.vrrpLostSyncAlive], "\(reports)")
            #expect((reports.first?.0 ?? 99) - Self.cut <= 2 * Self.mdi, "\(reports)")
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }

    /// The peer takes over at the cut and claims MASTER every 0.1 s while we stay MASTER.
    /// The control: one claim only, an ordinary election answered at once.
    @Test(arguments: [true, false]) func aPersistentClaimIsReportedWithinTwoMDI(persistent: Bool) {
        let reports = Self.run { now in
            let claim: Double? = now < Self.cut ? nil : (persistent ? Self.last(now, every: 0.1) : Self.cut)
            return (Self.instance(master: true, since: 0, advert: claim.map { ($0, 100) }, claim: claim), Self.sync(Self.last(now, every: Self.alive)))
        }
        if persistent {
            #expect(reports.map(\.1.kind) == [.bothMaster], "\(reports)")
            #expect((reports.first?.0 ?? 99) - Self.cut <= 2 * Self.mdi, "\(reports)")
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }

    /// The sync link cut at 2 s while VRRP is fine: a Tandem peer (heard every 75 ms) is
    /// missed within 2 × MDI. The controls: the sync link not cut, and a conntrackd peer's
    /// once-a-second pace, whose ordinary silences must not be read as a cut.
    enum SyncCase: String, CaseIterable { case tandemCut, notCut, conntrackdPeerIdle }

    @Test(arguments: SyncCase.allCases) func aSyncCutIsReportedWithinTwoMDI(_ c: SyncCase) {
        let reports = Self.run { now in
            let heard: Double = switch c {
            case .tandemCut: Self.last(min(now, Self.cut), every: Self.alive)
            case .notCut: Self.last(now, every: Self.alive)
            case .conntrackdPeerIdle: now.rounded(.down)
            }
            return (Self.instance(master: false, since: nil, advert: (Self.last(now, every: 0.1), 200)), Self.sync(heard, tandem: c != .conntrackdPeerIdle))
        }
        if c == .tandemCut {
            #expect(reports.map(\.1.kind) == [.syncLostVRRPAlive], "\(reports)")
            #expect((reports.first?.0 ?? 99) - Self.cut <= 2 * Self.mdi, "\(reports)")
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }
}
