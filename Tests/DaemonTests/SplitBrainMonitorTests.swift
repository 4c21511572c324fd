@testable import Daemon
import TestSupport
import Testing
import Timekeeping

/// The split-brain watch with a virtual clock: each disagreement is reported once when it
/// begins and once when it ends, and its control (the ordinary case it must not mistake
/// for one) reports nothing.
@Suite struct SplitBrainMonitorTests {
    typealias Monitor = SplitBrainMonitor
    static let mdi: Duration = .milliseconds(3_600)

    static func t(_ seconds: Double) -> Instant { ns(UInt64(seconds * 1e9)) }

    static func instance(master: Bool, since: Double? = nil, advert: (Double, UInt8)? = nil, claim: Double? = nil,
                         preempts: Bool = true) -> Monitor.InstanceView {
        Monitor.InstanceView(name: "VI_1", isMaster: master, masterSince: since.map(t), masterDownInterval: mdi,
                             peerAdvert: advert.map { Monitor.PeerAdvert(at: t($0.0), priority: $0.1, source: "10.0.0.2") },
                             lastClaimWhileMaster: claim.map(t), priority: 100, preempts: preempts)
    }

    static func sync(_ heard: Double?, hello: Double? = nil) -> Monitor.SyncView {
        Monitor.SyncView(peer: "10.0.1.2", lastHeard: heard.map(t), lastHello: hello.map(t))
    }

    /// Runs the monitor every 250 ms from `from` to `to`, the views given by `at`.
    static func run(_ m: inout Monitor, from: Double, to: Double,
                    _ at: (Double) -> (Monitor.InstanceView, Monitor.SyncView)) -> [(Double, Monitor.Report)] {
        var out: [(Double, Monitor.Report)] = []
        var now = from
        while now <= to {
            let (i, s) = at(now)
            out += m.evaluate([i], sync: s, now: t(now)).map { (now, $0) }
            now += 0.25
        }
        return out
    }

    @Test(arguments: [true, false]) func aPeerThatKeepsClaimingMasterIsReported(persistent: Bool) {
        var m = Monitor()
        // The peer claims every second from t = 10 (persistent) or once (an ordinary election).
        let last = persistent ? 20.0 : 10.0
        let reports = Self.run(&m, from: 0, to: 30) { now in
            let claim: Double? = now < 10 ? nil : min(last, now.rounded(.down))
            return (Self.instance(master: true, since: 0, advert: claim.map { ($0, 100) }, claim: claim), Self.sync(now))
        }
        if persistent {
            #expect(reports.map(\.1.kind) == [.bothMaster, .bothMaster])
            #expect(reports.map(\.1.began) == [true, false])
            let began = reports[0].0, ended = reports[1].0
            // Claims spanning half a MDI (10, 11, 12), within 2 × MDI of the first.
            #expect(began >= 11.8 && began <= 10 + 2 * 3.6, "\(began)")
            #expect(ended > 23.6 && ended <= 24, "\(ended)")
            #expect(reports[0].1.detail.hasPrefix("both master: VRRP: VI_1 MASTER, peer 10.0.0.2 last advert"), "\(reports[0].1.detail)")
            #expect(m.reports[.bothMaster] == 1)
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }

    enum Takeover: String, CaseIterable { case vrrpCut, peerDied, peerResigned }

    /// A takeover while the peer's sync messages still arrive is reported; the controls, a
    /// dead peer (its sync stops with its adverts) and a resignation (priority 0), are not.
    @Test(arguments: Takeover.allCases) func aTakeoverFromAPeerWhoseSyncLivesIsReported(_ how: Takeover) {
        var m = Monitor()
        let lastAdvert = 10.0, takeover = 13.6
        let reports = Self.run(&m, from: 0, to: 20) { now in
            let advert = (min(now.rounded(.down), lastAdvert), UInt8(how == .peerResigned && now >= lastAdvert ? 0 : 200))
            let master = now >= takeover
            // The peer's sync ALIVE every second, or nothing after its death at the last advert.
            let heard = how == .peerDied ? min(now, lastAdvert + 0.05) : now.rounded(.down)
            return (Self.instance(master: master, since: master ? takeover : nil, advert: advert), Self.sync(heard))
        }
        if how == .vrrpCut {
            #expect(reports.count == 1 && reports.first?.1.kind == .vrrpLostSyncAlive && reports.first?.1.began == true, "\(reports)")
            let at = reports.first?.0 ?? 0
            // On the peer's first ALIVE after the takeover.
            #expect(at > takeover && at <= takeover + 1, "\(at)")
            // The peer's adverts heard again end it.
            let after = Self.run(&m, from: 21, to: 22) { now in
                (Self.instance(master: true, since: takeover, advert: (21, 200), claim: 21), Self.sync(now))
            }
            #expect(after.map(\.1.began) == [false], "\(after)")
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }

    /// A failback: we (priority 100) take over from a lower-priority master whose adverts
    /// still arrive, as keepalived's backup preempts, and its sync lives on. That is no
    /// split brain (every failback in the soak reported one before). The control: without
    /// preempt the same takeover can only come from its adverts stopping, and is reported.
    @Test(arguments: [true, false]) func aPreemptionIsNoSplitBrain(preempts: Bool) {
        var m = Monitor()
        let takeover = 13.6
        let reports = Self.run(&m, from: 0, to: 20) { now in
            // Its adverts at priority 50 every second until it hears ours and steps down.
            let advert = (min(now.rounded(.down), 13.0), UInt8(50))
            let master = now >= takeover
            return (Self.instance(master: master, since: master ? takeover : nil, advert: advert, preempts: preempts), Self.sync(now.rounded(.down)))
        }
        if preempts {
            #expect(reports.isEmpty, "\(reports)")
        } else {
            #expect(reports.first?.1.kind == .vrrpLostSyncAlive && reports.first?.1.began == true, "\(reports)")
        }
    }

    /// The peer died at its last advert and restarted at once (a crash and a service
    /// manager's restart): its sync, heard again soon after our takeover, begins with HELLO.
    /// No split brain. The control: the same sync without HELLO, a peer that never stopped.
    @Test(arguments: [true, false]) func aRestartedPeerIsNoSplitBrain(restarted: Bool) {
        var m = Monitor()
        let lastAdvert = 10.0, takeover = 13.6, back = 14.5
        let reports = Self.run(&m, from: 0, to: 20) { now in
            let heard = now < lastAdvert ? now.rounded(.down) : (now < back ? lastAdvert : now)
            let hello: Double? = restarted && now >= back ? back : nil
            let master = now >= takeover
            return (Self.instance(master: master, since: master ? takeover : nil, advert: (min(now.rounded(.down), lastAdvert), 200)),
                    Self.sync(heard, hello: hello))
        }
        if restarted {
            #expect(reports.isEmpty, "\(reports)")
        } else {
            #expect(reports.first?.1.kind == .vrrpLostSyncAlive && reports.first?.1.began == true, "\(reports)")
        }
    }

    @Test(arguments: [true, false]) func syncLostWhileVRRPIsFineIsReported(syncCut: Bool) {
        var m = Monitor()
        let reports = Self.run(&m, from: 0, to: 20) { now in
            let heard = syncCut && now >= 5 ? 5.0 : now.rounded(.down)
            return (Self.instance(master: false, advert: (now.rounded(.down), 200)), Self.sync(heard))
        }
        if syncCut {
            #expect(reports.count == 1 && reports.first?.1.kind == .syncLostVRRPAlive, "\(reports)")
            #expect((reports.first?.0 ?? 0) > 7.5 && (reports.first?.0 ?? 0) <= 7.75)
            #expect(reports.first?.1.detail.hasPrefix("sync lost, VRRP fine: ") == true)
        } else {
            #expect(reports.isEmpty, "\(reports)")
        }
    }

    /// The peer took over by preemption and its loop then committed for 8.4 s (a loaded
    /// soak): no sync and no adverts from t = 5; at 13.4 its first advert, at 13.7 its sync.
    /// The control: the sync never comes back while the adverts go on.
    @Test(arguments: [true, false]) func aPeerSilentOnBothDuringACommitIsNoSplitBrain(syncReturns: Bool) {
        var m = Monitor()
        let reports = Self.run(&m, from: 0, to: 25) { now in
            let advert: Double? = now < 5 ? now.rounded(.down) : now < 13.4 ? 4 : 13.4 + (now - 13.4).rounded(.down)
            let heard = now < 5 ? now.rounded(.down) : syncReturns && now >= 13.7 ? now.rounded(.down) : 5.0
            return (Self.instance(master: false, advert: advert.map { ($0, 200) }), Self.sync(heard))
        }
        if syncReturns {
            #expect(reports.isEmpty, "\(reports)")
        } else {
            // Adverts for more than 2.5 s since they came back, the sync still silent.
            #expect(reports.count == 1 && reports.first?.1.kind == .syncLostVRRPAlive, "\(reports)")
            #expect((reports.first?.0 ?? 0) > 15.9 && (reports.first?.0 ?? 0) <= 16.75, "\(reports)")
        }
    }

    enum PeerWord: String, CaseIterable { case fault, master, silent }

    /// The peer's VRRP link went down: it is FAULT, its adverts stopped, its sync (another
    /// link) lives on. Its own view says FAULT just after our takeover, and no split brain
    /// is reported (every link-down failover of the soak reported one without it). The
    /// controls: a view still saying MASTER (VRRP cut) and a peer with views that sent none
    /// after the takeover are reported.
    @Test(arguments: PeerWord.allCases) func aPeerWhoseViewSaysFaultIsNoSplitBrain(_ word: PeerWord) {
        var m = Monitor()
        let lastAdvert = 10.0, takeover = 13.6
        let reports = Self.run(&m, from: 0, to: 25) { now in
            var i = Self.instance(master: now >= takeover, since: now >= takeover ? takeover : nil,
                                  advert: (min(now.rounded(.down), lastAdvert), 200))
            // Views every 0.75 s and at once on a change; the peer went FAULT at 10.5.
            let viewAt = (now / 0.75).rounded(.down) * 0.75
            switch word {
            case .fault: i.peerView = .init(state: viewAt < 10.5 ? "MASTER" : "FAULT", at: Self.t(viewAt))
            case .master: i.peerView = .init(state: "MASTER", at: Self.t(viewAt))
            case .silent: i.peerView = now < takeover + 1 ? .init(state: "MASTER", at: Self.t(min(viewAt, 13.5))) : nil
            }
            return (i, Self.sync(now.rounded(.down)))
        }
        switch word {
        case .fault:
            #expect(reports.isEmpty, "\(reports)")
        case .master, .silent:
            #expect(reports.first?.1.kind == .vrrpLostSyncAlive && reports.first?.1.began == true, "\(reports)")
            // Within the takeover's window either way.
            #expect((reports.first?.0 ?? 99) <= takeover + 3.6, "\(reports)")
        }
    }
}
