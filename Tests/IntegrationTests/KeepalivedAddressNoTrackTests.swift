import Foundation
import TestSupport
import Testing

/// `no_track` on an address line beside keepalived 2.2.7: keepalived tracks the interface
/// each address is on (vrrp_complete_instance, TRACK_ADDR), so that interface going down
/// puts the instance in FAULT; with `no_track` it does not. Each side runs two instances
/// with an address on the same extra link, one written `no_track`: when the link goes
/// down, the tracked one (the control) goes FAULT and the other stays MASTER, on both.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedAddressNoTrackTests {
    static let extra = "tkedum0"

    static func config(_ pair: SwitchedPair, side: String, vrid: Int) -> String {
        let s = side == "a" ? "11" : "12"
        let instance = { (name: String, id: Int, vip: String) in
            "vrrp_instance \(name) {\n  interface \(pair.interface(side, 0))\n  virtual_router_id \(id)\n  priority 100\n  advert_int 1\n"
                + "  virtual_ipaddress {\n    \(vip)\n  }\n}\n"
        }
        return "global_defs {\n  router_id tke-\(side)\n}\n"
            + instance("VI_T", vrid, "10.5.\(s).1/24 dev \(extra)")
            + instance("VI_N", vrid + 1, "10.6.\(s).2/24 dev \(extra) no_track")
    }

    /// The instance's state in a SIGUSR1 data dump.
    static func state(_ name: String, in dump: String) -> String? {
        guard let at = dump.range(of: " VRRP Instance = \(name)\n"),
              let line = dump[at.upperBound...].range(of: "   State = ") else { return nil }
        return String(dump[line.upperBound...].prefix { $0 != "\n" })
    }

    @Test func anAddressInterfaceGoingDownIsAFaultUnlessNoTrack() throws {
        let pair = try SwitchedPair(tag: "nt", prefix: "tke")
        defer { pair.remove() }
        for ns in [pair.a, pair.b] {
            ns.run(["sh", "-c", "ip link add \(Self.extra) type veth peer name tkedum1 && ip link set tkedum1 up && ip link set \(Self.extra) up"])
        }
        // Different VRIDs: each side is master of its own two instances.
        let t = try VRRPRouter(.tandem, in: pair.a, config: Self.config(pair, side: "a", vrid: 61))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: Self.config(pair, side: "b", vrid: 63))
        defer { k.remove() }
        // Apart subnets, so neither address is the other's secondary (gone with its primary).
        let holds = { (side: String, host: Int) in pair.holds(side, "10.\(4 + host).\(side == "a" ? 11 : 12).\(host)") }
        try #require(eventually(within: 15) { holds("a", 1) && holds("a", 2) && holds("b", 1) && holds("b", 2) }, "\(t.log)\n\(k.log)")
        for ns in [pair.a, pair.b] { ns.run(["ip", "link", "set", Self.extra, "down"]) }
        // The control: the tracked instance leaves MASTER (its address goes) on both.
        #expect(eventually(within: 15) { !holds("a", 1) && !holds("b", 1) }, "\(t.log)\n\(k.log)")
        let (ours, theirs) = (t.data(), k.data())
        #expect(Self.state("VI_T", in: theirs) == "FAULT" && Self.state("VI_T", in: ours) == "FAULT", "\(ours)\n\(theirs)")
        // The no_track instance, which saw the same link event, is still MASTER with its address.
        #expect(Self.state("VI_N", in: theirs) == "MASTER" && Self.state("VI_N", in: ours) == "MASTER", "\(ours)\n\(theirs)")
        #expect(holds("a", 2) && holds("b", 2))
        // keepalived's dump writes the word on the address line; so does Tandem's.
        #expect(ours.contains("dev \(Self.extra) scope global no_track") && theirs.contains("dev \(Self.extra) scope global no_track"))
        // The link back: the tracked one returns to MASTER on both.
        for ns in [pair.a, pair.b] { ns.run(["ip", "link", "set", Self.extra, "up"]) }
        #expect(eventually(within: 15) { holds("a", 1) && holds("b", 1) }, "\(t.log)\n\(k.log)")
    }

    /// keepalived's netlink reflector: a MASTER whose address is deleted under it falls to
    /// BACKUP, and, alone on its segment, comes back as MASTER and puts the address back;
    /// with `no_track` it stays MASTER and the address stays gone. Both instances are on
    /// the main interface here, in subnets of their own.
    @Test func aDeletedAddressIsPutBackThroughBackupUnlessNoTrack() throws {
        let pair = try SwitchedPair(tag: "nd", prefix: "tke")
        defer { pair.remove() }
        let config = { (side: String, vrid: Int) in
            Self.config(pair, side: side, vrid: vrid).replacingOccurrences(of: " dev \(Self.extra)", with: "")
        }
        let t = try VRRPRouter(.tandem, in: pair.a, config: config("a", 65))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: config("b", 67))
        defer { k.remove() }
        let vip = { (side: String, host: Int) in "10.\(4 + host).\(side == "a" ? 11 : 12).\(host)" }
        let holds = { (side: String, host: Int) in pair.holds(side, vip(side, host)) }
        try #require(eventually(within: 15) { holds("a", 1) && holds("a", 2) && holds("b", 1) && holds("b", 2) }, "\(t.log)\n\(k.log)")
        for side in ["a", "b"] {
            for host in [1, 2] {
                pair.namespace(side).run(["ip", "addr", "del", vip(side, host) + "/24", "dev", pair.interface(side, 0)])
            }
        }
        // The control: the tracked instance went through BACKUP and put its address back.
        #expect(eventually(within: 15) { holds("a", 1) && holds("b", 1) }, "\(t.log)\n\(k.log)")
        for (name, log) in [("tandem", t.log), ("keepalived", k.log)] {
            let backups = log.components(separatedBy: "(VI_T) Entering BACKUP STATE").count - 1
            #expect(backups >= 2, "\(name): the start's BACKUP, then the deletion's\n\(log)")
            #expect(log.components(separatedBy: "(VI_N) Entering BACKUP STATE").count - 1 == 1, "\(name): VI_N only at start\n\(log)")
        }
        // The no_track one, given the same time, did not: still MASTER, its address gone.
        let (ours, theirs) = (t.data(), k.data())
        #expect(Self.state("VI_N", in: theirs) == "MASTER" && Self.state("VI_N", in: ours) == "MASTER", "\(ours)\n\(theirs)")
        #expect(!holds("a", 2) && !holds("b", 2))
    }
}
