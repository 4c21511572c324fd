import Testing
import VRRP
import Timekeeping
import TestSupport

/// keepalived's tracking arithmetic (spec §2.10) and vrrp_script's rise/fall.
@Suite struct TrackingTests {
    @Test func unweightedItemDownIsAFault() {
        let r = Tracking.evaluate([.init(name: "eth0"), .init(name: "eth1", weight: 10)]) { $0 == "eth1" }
        #expect(r.faults == ["eth0"] && r.weight == 10)
    }

    @Test func weightsFollowKeepalivedsSignRule() {
        let items: [Tracking.Item] = [.init(name: "up+", weight: 20), .init(name: "down+", weight: 30),
                                      .init(name: "up-", weight: -5), .init(name: "down-", weight: -7),
                                      .init(name: "down+rev", weight: 11, reverse: true)]
        let r = Tracking.evaluate(items) { $0.hasPrefix("up") }
        // +20 (up, positive) −7 (down, negative) +11 (down, reversed → counted as up)
        #expect(r.faults.isEmpty && r.weight == 24)
    }

    @Test func unknownScriptHoldsAnUnweightedInstanceButAddsNoWeight() {
        let r = Tracking.evaluate([.init(name: "a"), .init(name: "b", weight: 50)]) { _ in nil }
        #expect(r.faults == ["a"] && r.weight == 0)
    }

    @Test func effectivePriorityCombinesTrackingAndDemotion() {
        #expect(Tracking.effectivePriority(base: 100, weight: 30, demotion: 0) == 130)
        #expect(Tracking.effectivePriority(base: 100, weight: 30, demotion: 50) == 80)
        #expect(Tracking.effectivePriority(base: 100, weight: -200, demotion: 0) == 1)
        #expect(Tracking.effectivePriority(base: 250, weight: 30, demotion: 0) == 254)
        #expect(Tracking.effectivePriority(base: 255, weight: -30, demotion: 100) == 255)
    }

    @Test func scriptHealthHonoursRiseAndFall() {
        var h = ScriptHealth(rise: 2, fall: 3)
        // One success away from OK at start.
        #expect(h.record(success: true) == true)
        // Three failures in a row to KO; a success in between starts the count again.
        #expect(h.record(success: false) == nil)
        #expect(h.record(success: true) == nil)
        #expect(h.record(success: false) == nil)
        #expect(h.record(success: false) == nil)
        #expect(h.record(success: false) == false)
        // Two successes in a row back to OK.
        #expect(h.record(success: true) == nil)
        #expect(h.record(success: false) == nil)
        #expect(h.record(success: true) == nil)
        #expect(h.record(success: true) == true)
    }

    @Test func firstFailureIsReportedAtOnce() {
        var h = ScriptHealth(rise: 3, fall: 3)
        #expect(h.record(success: false) == false)
    }

    @Test func initFailStartsAtTheBottom() {
        var h = ScriptHealth(rise: 2, fall: 1, initFail: true)
        #expect(h.isOK == false)
        #expect(h.record(success: true) == nil)
        #expect(h.record(success: true) == true)
    }

    @Test func priorityChangeShiftsTheBackupsDownTimer() {
        var m = InstanceMachine(.init(priority: 100, address: .v4(1)))
        _ = m.start(now: us(0))
        let before = m.masterDownDeadline!
        m.changePriority(to: 200)
        // Skew shrinks from (256−100)/256 s to (256−200)/256 s.
        #expect(before - m.masterDownDeadline! == µs(609_375 - 218_750))
    }

    @Test func reloadKeepsTheMasterAndReadvertises() {
        var m = InstanceMachine(.init(priority: 255, configuredMaster: true, address: .v4(1)))
        _ = m.start(now: us(0))
        #expect(m.state == .master)
        let actions = m.reconfigure(.init(priority: 200, address: .v4(1)), now: us(10))
        #expect(m.state == .master && m.parameters.priority == 200 && actions == [.sendAdvertisement(priority: 200)])
    }
}
