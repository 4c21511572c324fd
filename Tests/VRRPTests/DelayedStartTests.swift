import Testing
import VRRP
import IPAddressing
import Timekeeping
import TestSupport

/// vrrp_startup_delay on the machine: until the delay is over a backup's down timer
/// counts from its end, so no instance becomes MASTER before the delay and a whole
/// Master_Down_Interval have passed; an address owner waits for the end of the delay.
@Suite struct DelayedStartTests {
    static let delay = Duration.seconds(10)

    @Test(arguments: [false, true])
    func backupWaitsForTheDelayAndADownInterval(delayed: Bool) {
        var m = InstanceMachine(.init(priority: 100, address: IPAddress("10.0.0.1")!))
        let zero = us(0)
        if delayed { m.delayedStart = zero + Self.delay }
        _ = m.start(now: zero)
        let down = m.masterDownInterval
        let becomes = m.fire(now: zero + down).contains(.transition(from: .backup, to: .master))
        // The control, without the delay, takes over after one down interval.
        #expect(becomes == !delayed)
        guard delayed else { return }
        // A master heard during the delay puts the timer back to the delay's end.
        _ = m.receive(.init(priority: 200, source: IPAddress("10.0.0.2")!), now: zero + .seconds(5))
        #expect(m.masterDownDeadline == zero + Self.delay + down)
        #expect(m.fire(now: zero + Self.delay + down - .microseconds(1)).isEmpty)
        #expect(m.fire(now: zero + Self.delay + down).contains(.transition(from: .backup, to: .master)))
    }

    @Test(arguments: [false, true])
    func ownerWaitsForTheDelay(delayed: Bool) {
        var m = InstanceMachine(.init(priority: 255, configuredMaster: true, address: IPAddress("10.0.0.1")!))
        let zero = us(0)
        if delayed { m.delayedStart = zero + Self.delay }
        let first = m.start(now: zero)
        #expect(first.contains(.transition(from: .initial, to: .master)) == !delayed)
        guard delayed else { return }
        #expect(m.state == .backup && m.masterDownDeadline == zero + Self.delay)
        #expect(m.fire(now: zero + Self.delay).contains(.transition(from: .backup, to: .master)))
    }
}
