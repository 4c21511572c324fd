import Testing
import VRRP
import IPAddressing
import Timekeeping
import TestSupport

/// The machine side of keepalived's sync-group unanimity rule: a member whose timer ran
/// out can be held in BACKUP for another whole Master_Down_Interval.
@Suite struct SyncGroupHoldTests {
    @Test func heldMemberStaysBackupAndWaitsAgain() {
        var m = InstanceMachine(.init(priority: 100, address: IPAddress("10.0.0.1")!))
        let zero = us(0)
        _ = m.start(now: zero)
        let down = m.masterDownInterval
        #expect(!m.masterDownExpired(now: zero + down - .microseconds(1)))
        #expect(m.masterDownExpired(now: zero + down))
        m.holdBackup(now: zero + down)
        #expect(m.state == .backup && m.masterDownDeadline == zero + down * 2)
        #expect(m.fire(now: zero + down + .microseconds(1)).isEmpty)
        #expect(m.fire(now: zero + down * 2).contains(.transition(from: .backup, to: .master)))
        // Holding is for BACKUP only.
        m.holdBackup(now: zero + down * 3)
        #expect(m.state == .master && m.masterDownDeadline == nil)
    }
}
