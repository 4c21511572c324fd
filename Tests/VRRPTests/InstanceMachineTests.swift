import Testing
import VRRP
import IPAddressing
import Timekeeping
import TestSupport

/// The state machine against keepalived's observed timings and transitions (spec §2),
/// with a virtual clock read in microseconds.
@Suite struct InstanceMachineTests {
    static let a = IPAddress("10.0.0.1")!
    static let b = IPAddress("10.0.0.2")!
    typealias M = InstanceMachine

    @Test(arguments: [
        (Advertisement.Version.v2, UInt64(1_000_000), UInt8(50), UInt64(804_687), UInt64(3_804_687)),
        (.v2, 1_000_000, 100, 609_375, 3_609_375),
        (.v2, 1_000_000, 254, 7_812, 3_007_812),
        (.v3, 1_000_000, 50, 804_687, 3_804_687),
        (.v3, 500_000, 50, 402_343, 1_902_343),
        (.v3, 250_000, 100, 152_343, 902_343),
    ])
    func timersMatchKeepalived(version: Advertisement.Version, interval: UInt64, priority: UInt8, skew: UInt64, down: UInt64) {
        let m = M(.init(version: version, priority: priority, interval: µs(Int64(interval)), address: Self.a))
        #expect(m.skewTime == µs(Int64(skew)))
        #expect(m.masterDownInterval == µs(Int64(down)))
    }

    @Test func nonOwnerMasterStartsAsBackupAndTakesOverAfterTheDownInterval() {
        var m = M(.init(priority: 50, configuredMaster: true, address: Self.a))
        #expect(m.start(now: us(0)) == [.transition(from: .initial, to: .backup)])
        #expect(m.fire(now: us(3_804_686)).isEmpty)
        #expect(m.fire(now: us(3_804_687)) == [.transition(from: .backup, to: .master), .sendAdvertisement(priority: 50), .addAddresses])
        #expect(m.fire(now: us(4_804_687)) == [.sendAdvertisement(priority: 50)])
    }

    /// The advert alone, for an owner whose loop a long job holds: due only to a MASTER, on
    /// the same schedule `fire` keeps; a BACKUP's expired down timer is left to `fire`.
    @Test func aDueAdvertisementAloneKeepsTheSchedule() {
        var m = M(.init(priority: 50, configuredMaster: true, address: Self.a))
        _ = m.start(now: us(0))
        #expect(m.dueAdvertisement(now: us(3_900_000)) == nil)
        #expect(m.state == .backup)
        _ = m.fire(now: us(3_804_687))
        #expect(m.dueAdvertisement(now: us(4_804_686)) == nil)
        #expect(m.dueAdvertisement(now: us(4_804_687)) == .sendAdvertisement(priority: 50))
        #expect(m.dueAdvertisement(now: us(4_900_000)) == nil)
        #expect(m.fire(now: us(5_000_000)).isEmpty)
        #expect(m.fire(now: us(5_804_687)) == [.sendAdvertisement(priority: 50)])
    }

    @Test func ownerBecomesMasterAtOnce() {
        var m = M(.init(priority: 255, configuredMaster: true, address: Self.a))
        #expect(m.start(now: us(0)) == [.transition(from: .initial, to: .master), .sendAdvertisement(priority: 255), .addAddresses])
    }

    @Test func resignationLetsTheBackupTakeOverAfterSkewTime() {
        // Observed: B (priority 40) became master 0.849 s after A's priority-0 advert.
        var m = M(.init(priority: 40, address: Self.b))
        _ = m.start(now: us(0))
        _ = m.receive(.init(priority: 50, source: Self.a), now: us(1_000_000))
        _ = m.receive(.init(priority: 0, source: Self.a), now: us(2_000_000))
        #expect(m.nextDeadline == us(2_000_000 + 843_750))
        #expect(m.fire(now: us(2_843_750)).first == .transition(from: .backup, to: .master))
    }

    @Test func higherPriorityBackupPreemptsByIgnoringTheLowerMaster() {
        var m = M(.init(priority: 100, address: Self.b))
        _ = m.start(now: us(0))
        var t: UInt64 = 0
        var became: UInt64?
        while t < 10_000_000 && became == nil {
            _ = m.receive(.init(priority: 50, source: Self.a), now: us(t))
            if m.fire(now: us(t)).contains(.addAddresses) { became = t }
            t += 10_000
        }
        #expect(became == 3_610_000)
    }

    @Test func nopreemptAcceptsALowerMaster() {
        var m = M(.init(priority: 100, preempt: false, address: Self.b))
        _ = m.start(now: us(0))
        for t in stride(from: UInt64(0), to: 10_000_000, by: 1_000_000) {
            _ = m.receive(.init(priority: 50, source: Self.a), now: us(t))
            #expect(m.fire(now: us(t + 999_999)).isEmpty)
        }
        #expect(m.state == .backup)
    }

    @Test func preemptDelayHoldsOffPreemption() {
        var m = M(.init(priority: 100, preemptDelay: .seconds(5), address: Self.b))
        _ = m.start(now: us(0))
        var became: UInt64?
        for t in stride(from: UInt64(0), to: 20_000_000, by: 100_000) where became == nil {
            _ = m.receive(.init(priority: 50, source: Self.a), now: us(t))
            if m.fire(now: us(t)).contains(.addAddresses) { became = t }
        }
        // Adverts keep resetting the timer until the delay ends; then the down interval runs out.
        #expect(became.map { $0 >= 5_000_000 + 3_609_375 - 100_000 && $0 <= 5_000_000 + 3_609_375 + 100_000 } == true)
    }

    @Test func masterYieldsToHigherPriorityOrHigherAddress() {
        var m = M(.init(priority: 100, address: Self.a))
        _ = m.start(now: us(0))
        _ = m.fire(now: us(3_609_375))
        #expect(m.state == .master)
        // Lower priority: keepalived answers at once.
        #expect(m.receive(.init(priority: 50, source: Self.b), now: us(4_000_000)) == [.heardLowerPriority(50), .sendAdvertisement(priority: 100)])
        // Equal priority, higher address: step down (no priority-0 advert).
        #expect(m.receive(.init(priority: 100, source: Self.b), now: us(4_100_000))
                == [.removeAddresses, .transition(from: .master, to: .backup)])
        var other = M(.init(priority: 100, address: Self.b))
        _ = other.start(now: us(0))
        _ = other.fire(now: us(3_609_375))
        // Equal priority, lower address: stay master and re-advertise.
        #expect(other.receive(.init(priority: 100, source: Self.a), now: us(4_000_000)) == [.heardLowerPriority(100), .sendAdvertisement(priority: 100)])
        #expect(other.state == .master)
    }

    @Test func v3BackupFollowsTheMastersInterval() {
        var m = M(.init(version: .v3, priority: 50, interval: .seconds(1), address: Self.b))
        _ = m.start(now: us(0))
        _ = m.receive(.init(priority: 100, interval: .milliseconds(500), source: Self.a), now: us(0))
        #expect(m.masterAdvertisementInterval == .milliseconds(500))
        #expect(m.nextDeadline == us(1_902_343))
    }

    @Test func faultShutdownAndRecovery() {
        var m = M(.init(priority: 100, address: Self.a))
        _ = m.start(now: us(0))
        _ = m.fire(now: us(3_609_375))
        #expect(m.fault(now: us(4_000_000)) == [.sendAdvertisement(priority: 0), .removeAddresses, .transition(from: .master, to: .fault)])
        #expect(m.receive(.init(priority: 50, source: Self.b), now: us(4_100_000)).isEmpty)
        #expect(m.recover(now: us(5_000_000)) == [.transition(from: .fault, to: .backup)])
        #expect(m.nextDeadline == us(5_000_000 + 3_609_375))
        _ = m.fire(now: us(5_000_000 + 3_609_375))
        #expect(m.shutdown(now: us(9_000_000)) == [.sendAdvertisement(priority: 0), .removeAddresses, .transition(from: .master, to: .stopped)])
        var b = M(.init(priority: 50, address: Self.b))
        _ = b.start(now: us(0))
        #expect(b.shutdown(now: us(1)) == [.transition(from: .backup, to: .stopped)])
    }
}
