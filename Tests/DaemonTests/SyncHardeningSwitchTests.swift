@testable import Daemon
import StateSync
import Testing
import TestSupport
import Timekeeping

/// The daemon's switch for the hardening (docs/sync-hardening.md): on, a forged jump is
/// refused and a second resync request within the second is not answered; off (the tests'
/// control runs), both go through. Refusals are logged once per change, not per message.
@Suite struct SyncHardeningSwitchTests {
    @Test func onRefusesOffPasses() {
        var on = SyncHardening(enabled: true)
        var off = SyncHardening(enabled: false)
        let onJump = on.admits(flags: [], sequence: 9_000_000, expected: 100, now: ns(0))
        let offJump = off.admits(flags: [], sequence: 9_000_000, expected: 100, now: ns(0))
        #expect(!onJump)
        #expect(offJump)
        let onFirst = on.permitsBulkSend(now: ns(0)), onSecond = on.permitsBulkSend(now: ns(500_000_000))
        let offFirst = off.permitsBulkSend(now: ns(0)), offSecond = off.permitsBulkSend(now: ns(500_000_000))
        #expect(onFirst && !onSecond)
        #expect(offFirst && offSecond)
    }

    @Test func refusalsAreLoggedOncePerChange() {
        var h = SyncHardening(enabled: true)
        var r = SyncRefusals()
        #expect(h.newRefusals(r) == nil)
        r.sequenceJumpUnconfirmed = 2
        #expect(h.newRefusals(r)?.hasPrefix("refused 2 message(s) from the sync link") == true)
        #expect(h.newRefusals(r) == nil)
        r.rateLimited = 1
        #expect(h.newRefusals(r) == "refused 1 message(s) from the sync link (so far: 2 sequence-jump-unconfirmed, 1 rate-limited; "
            + "see docs/sync-hardening.md)")
        // Not from the peer: the link logs those itself.
        r.notFromPeer = 5
        #expect(h.newRefusals(r) == nil)
        r.tcpSecondConnection = 1
        r.cacheFull = 1
        #expect(h.newRefusals(r)?.hasPrefix("refused 2 message(s)") == true)
    }
}
