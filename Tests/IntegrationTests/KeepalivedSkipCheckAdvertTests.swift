import Foundation
import TestSupport
import Testing

/// skip_check_adv_addr beside keepalived 2.2.7: a keepalived master (priority 200) and a
/// BACKUP of each kind (100) share 10.146.0.100. The master is reloaded with a second VIP,
/// so its adverts no longer list what the BACKUP has. A BACKUP that skips the address
/// check for the master it last heard stays BACKUP; the control, the same BACKUP without
/// it, refuses the changed adverts and becomes MASTER beside it.
@Suite(.enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedSkipCheckAdvertTests {
    static func config(_ interface: String, priority: Int, vips: [String], extra: String = "") -> String {
        "vrrp_instance VI_1 {\n  interface \(interface)\n  virtual_router_id 61\n  priority \(priority)\n  advert_int 1\n\(extra)"
            + "  virtual_ipaddress {\n" + vips.map { "    \($0)/24\n" }.joined() + "  }\n}\n"
    }

    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func aBackupSkippingTheCheckFollowsAMasterWhoseAddressesChanged(_ kind: VRRPRouter.Kind, skips: Bool) throws {
        let pair = try SwitchedPair(tag: "sk\(kind.rawValue.prefix(1))\(skips ? "s" : "c")", prefix: "tkh", network: "10.146")
        defer { pair.remove() }
        let master = try VRRPRouter(.keepalived, in: pair.a, config: Self.config(pair.interface("a", 0), priority: 200, vips: ["10.146.0.100"]))
        defer { master.remove() }
        try #require(eventually(within: 15) { pair.holds("a", "10.146.0.100") }, "\(master.log)")
        let backup = try VRRPRouter(kind, in: pair.b, config: Self.config(pair.interface("b", 0), priority: 100, vips: ["10.146.0.100"],
                                                                          extra: skips ? "  skip_check_adv_addr\n" : ""))
        defer { backup.remove() }
        // Settled: the BACKUP has heard the master's unchanged adverts for a while.
        usleep(4_000_000)
        try #require(!pair.holds("b", "10.146.0.100"), "\(backup.log)")
        try Self.config(pair.interface("a", 0), priority: 200, vips: ["10.146.0.100", "10.146.0.101"])
            .write(toFile: master.configPath, atomically: true, encoding: .utf8)
        master.signal(SIGHUP)
        #expect(eventually(within: 10) { pair.holds("a", "10.146.0.101") }, "\(master.log)")
        // Master_Down_Interval is 3.6 s here: twice that without a claim is a BACKUP that follows.
        let claimed = eventually(within: 8) { pair.holds("b", "10.146.0.100") }
        #expect(claimed == !skips, "\(kind) \(skips ? "skipping" : "checking"): \(claimed ? "became MASTER" : "stayed BACKUP")\n\(backup.log)")
        #expect(pair.holds("a", "10.146.0.100"), "\(master.log)")
    }
}
