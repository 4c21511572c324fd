import Foundation
import TestSupport
import Testing

/// VRRPv2 with keepalived's IPsec-AH authentication between Tandem and keepalived 2.2.7:
/// each accepts the other's HMAC-MD5-96 and sequence numbers (including after a
/// hand-over, when the new master continues above the numbers it heard), and a wrong key
/// is counted, never obeyed.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedAHTests {
    static let config = VRRPTestConfig(version: 2, interval: 1, password: "ahpass", vrid: 41)

    static func text(_ pair: SwitchedPair, side: String, priority: Int, password: String = "ahpass") -> String {
        var c = config
        c.password = password
        return c.text(pair, side: side, instances: [.init(priority: priority)]).replacingOccurrences(of: "auth_type PASS", with: "auth_type AH")
    }

    @Test(arguments: [true, false])
    func electionAndHandOverWithAH(tandemWins: Bool) throws {
        let pair = try SwitchedPair(tag: "ah")
        defer { pair.remove() }
        let t = try VRRPRouter(.tandem, in: pair.a, config: Self.text(pair, side: "a", priority: tandemWins ? 150 : 100))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: Self.text(pair, side: "b", priority: tandemWins ? 100 : 150))
        defer { k.remove() }
        let (winner, loser) = tandemWins ? ("a", "b") : ("b", "a")
        let vip = VRRPTestConfig.vip(0)
        #expect(eventually(within: 15) { pair.holds(winner, vip) && !pair.holds(loser, vip) }, "\(t.log)\n\(k.log)")
        usleep(2_500_000)
        #expect(pair.holds(winner, vip) && !pair.holds(loser, vip), "\(t.log)\n\(k.log)")
        let backup = tandemWins ? k : t
        let s = backup.statistics()
        #expect((s.value("Advertisements/Received") ?? 0) >= 2, "\(s)")
        #expect(s.value("Authentication Errors/Failure") == 0 && s.value("Authentication Errors/Type Mismatch") == 0, "\(s)")
        // The master resigns; the backup takes over and its adverts, numbered above the
        // ones it heard, are what the old master would accept on its return.
        (tandemWins ? t : k).stop()
        #expect(eventually(within: 10) { pair.holds(loser, vip) }, "\(t.log)\n\(k.log)")
        #expect((backup.statistics().value("Priority Zero/Received") ?? 0) >= 1)
    }

    @Test func wrongKeyIsCountedAndIgnored() throws {
        let pair = try SwitchedPair(tag: "ahk")
        defer { pair.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: Self.text(pair, side: "b", priority: 150, password: "other"))
        defer { k.remove() }
        let vip = VRRPTestConfig.vip(0)
        try #require(eventually(within: 10) { pair.holds("b", vip) }, "\(k.log)")
        let t = try VRRPRouter(.tandem, in: pair.a, config: Self.text(pair, side: "a", priority: 100))
        defer { t.remove() }
        // keepalived's higher-priority adverts fail the ICV: Tandem's timer runs out (split brain, as keepalived).
        #expect(eventually(within: 10) { pair.holds("a", vip) }, "\(t.log)")
        let s = t.statistics()
        #expect((s.value("Authentication Errors/Failure") ?? 0) >= 1, "\(s)")
    }
}
