import Foundation
import TestSupport
import Testing

/// keepalived's sync-group start-up rule (spec §3.1), Tandem and keepalived 2.2.7 alike:
/// a group of two members where only one hears a master stays BACKUP as a whole (the
/// other member's timer running out does not pull the group to MASTER); once the master
/// goes, both members take over together.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedSyncGroupStartTests {
    @Test(arguments: [VRRPRouter.Kind.tandem, .keepalived])
    func oneMemberHearingAMasterHoldsTheGroup(_ kind: VRRPRouter.Kind) throws {
        let pair = try SwitchedPair(tag: "sg\(kind.rawValue.prefix(1))", segments: 2)
        defer { pair.remove() }
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        // The master on side b runs segment 0 only: segment 1 of side a hears nobody.
        let master = try VRRPRouter(.keepalived, in: pair.b, config: c.text(pair, side: "b", instances: [.init(name: "VI_1", segment: 0, priority: 200)]))
        defer { master.remove() }
        try #require(eventually(within: 10) { pair.holds("b", VRRPTestConfig.vip(0)) }, "\(master.log)")
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [
            .init(name: "VI_1", segment: 0, priority: 100), .init(name: "VI_2", segment: 1, priority: 100),
        ], syncGroup: true))
        defer { router.remove() }
        // Many Master_Down_Intervals (0.73 s) of VI_2 hearing nothing.
        usleep(3_000_000)
        #expect(!pair.holds("a", VRRPTestConfig.vip(1)) && !pair.holds("a", VRRPTestConfig.vip(0)), "\(router.log)")
        master.stop()
        #expect(eventually(within: 10) { pair.holds("a", VRRPTestConfig.vip(0)) && pair.holds("a", VRRPTestConfig.vip(1)) }, "\(router.log)")
    }
}
