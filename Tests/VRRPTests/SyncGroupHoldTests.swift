import Testing
import VRRP
import IPAddressing

/// The machine side of keepalived's sync-group unanimity rule: a member whose timer ran
/// out can be held in BACKUP for another whole Master_Down_Interval.
@Suite struct SyncGroupHoldTests {
    @Test func heldMemberStaysBackupAndWaitsAgain() {
        var m = InstanceMachine(.init(priority: 100, address: IPAddress("10.0.0.1")!))
        _ = m.start(now: 0)
        let down = m.masterDownInterval
        #expect(!m.masterDownExpired(now: down - 1))
        #expect(m.masterDownExpired(now: down))
        m.holdBackup(now: down)
        #expect(m.state == .backup && m.masterDownDeadline == 2 * down)
        #expect(m.fire(now: down + 1).isEmpty)
        #expect(m.fire(now: 2 * down).contains(.transition(from: .backup, to: .master)))
        // Holding is for BACKUP only.
        m.holdBackup(now: 3 * down)
        #expect(m.state == .master && m.masterDownDeadline == nil)
    }
}
