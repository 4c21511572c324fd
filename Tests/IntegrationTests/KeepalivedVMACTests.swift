import Foundation
import TestSupport
import Testing

/// `use_vmac` and `vmac_xmit_base` beside keepalived 2.2.7: the macvlan vrrp.VRID in
/// private mode with the VRRP MAC, the VIP on it, the sysctls keepalived sets, the same
/// nftables IGMP rule, the VIP's gratuitous ARP carrying the VRRP MAC (the other router,
/// with arp_accept in its own namespace, makes its neighbour entry from it), the adverts
/// leaving from that MAC (or from the base interface's with vmac_xmit_base), and the
/// macvlan gone after a stop. The control is each tool without use_vmac: the entry then
/// holds the interface's own MAC.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived")
                             && Shell.which("nft") && Shell.which("tcpdump"), "needs root, keepalived, nft and tcpdump"))
struct KeepalivedVMACTests {
    static let c = VRRPTestConfig(version: 3, interval: 0.2)
    static let vip = VRRPTestConfig.vip(0)
    /// VRID 51 (VRRPTestConfig's first).
    static let vmac = "vrrp.51"
    static let vrrpMAC = "00:00:5e:00:01:33"

    struct Seen {
        var link = ""
        var vipOnVMAC = false
        var sysctls = ""
        var ruleset = ""
        var neighbour = ""
        var advertSource = ""
        var baseMAC = ""
        var linkAfterStop = ""
        var base = ""
    }

    func observe(_ kind: VRRPRouter.Kind, _ tag: String, lines: [String]) throws -> Seen {
        let pair = try SwitchedPair(tag: "\(tag)\(kind.rawValue.prefix(1))", prefix: "tkb")
        defer { pair.remove() }
        let base = pair.interface("a", 0)
        // b learns the VIP from a's gratuitous ARP alone: no ping, whose reply path could
        // teach it another MAC.
        #expect(pair.b.run(["sysctl", "-qw", "net.ipv4.conf.\(pair.interface("b", 0)).arp_accept=1"]).status == 0)
        let a = try VRRPRouter(kind, in: pair.a, config: Self.c.text(pair, side: "a", instances: [.init(priority: 150, extra: lines)]))
        defer { a.remove() }
        #expect(eventually(within: 8) { pair.holds("a", Self.vip) }, "\(kind) \(lines): \(a.log)")
        usleep(500_000)
        var s = Seen()
        s.base = base
        s.link = pair.a.run(["ip", "-d", "link", "show", Self.vmac]).stdout
        s.vipOnVMAC = pair.a.run(["ip", "-4", "-br", "addr", "show", "dev", Self.vmac]).stdout.contains(Self.vip + "/")
        s.sysctls = ["ipv4/conf/\(base)/arp_ignore", "ipv4/conf/\(base)/arp_filter", "ipv4/conf/\(Self.vmac)/arp_ignore",
                     "ipv4/conf/\(Self.vmac)/accept_local", "ipv4/conf/\(Self.vmac)/rp_filter", "ipv4/conf/\(Self.vmac)/promote_secondaries",
                     "ipv6/conf/\(Self.vmac)/disable_ipv6"]
            .map { pair.a.run(["cat", "/proc/sys/net/" + $0]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " ")
        s.ruleset = pair.a.run(["nft", "list", "ruleset"]).stdout
        s.neighbour = pair.b.run(["ip", "neigh", "show", Self.vip]).stdout
        s.advertSource = pair.b.run(["timeout", "3", "tcpdump", "-c", "1", "-enli", pair.interface("b", 0), "ip proto 112"], timeout: 6).stdout
        s.baseMAC = pair.a.run(["cat", "/sys/class/net/\(base)/address"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        a.stop()
        s.linkAfterStop = pair.a.run(["ip", "-br", "link"]).stdout
        return s
    }

    @Test func vmacAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "vm", lines: ["use_vmac"]), keepalived = try observe(.keepalived, "vm", lines: ["use_vmac"])
        for (kind, s) in [("tandem", tandem), ("keepalived", keepalived)] {
            #expect(s.link.contains("link/ether \(Self.vrrpMAC)") && s.link.contains("macvlan mode private") && s.link.contains("addrgenmode none"),
                    "\(kind): \(s.link)")
            #expect(s.vipOnVMAC && s.sysctls == "1 1 1 1 0 1 1", "\(kind): \(s.vipOnVMAC) \(s.sysctls)")
            #expect(s.neighbour.contains("lladdr \(Self.vrrpMAC)"), "\(kind): \(s.neighbour)")
            #expect(s.advertSource.contains(Self.vrrpMAC + " >"), "\(kind): \(s.advertSource)")
            #expect(!s.linkAfterStop.contains(Self.vmac), "\(kind): \(s.linkAfterStop)")
        }
        // Each pair has its own interface names.
        func shape(_ s: Seen) -> String { s.ruleset.replacingOccurrences(of: s.base, with: "BASE") }
        #expect(shape(tandem) == shape(keepalived) && tandem.ruleset.contains("vmac_map"), "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)")
        // The control: without use_vmac the VIP answers from the interface's own MAC.
        let plain = try observe(.tandem, "vp", lines: []), theirs = try observe(.keepalived, "vp", lines: [])
        #expect(plain.neighbour.contains("lladdr \(plain.baseMAC)") && !plain.neighbour.contains(Self.vrrpMAC), "\(plain.neighbour)")
        #expect(theirs.neighbour.contains("lladdr \(theirs.baseMAC)") && plain.link.isEmpty, "\(theirs.neighbour)")
    }

    @Test func transmitBaseAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "vx", lines: ["use_vmac", "vmac_xmit_base"])
        let keepalived = try observe(.keepalived, "vx", lines: ["use_vmac", "vmac_xmit_base"])
        for (kind, s) in [("tandem", tandem), ("keepalived", keepalived)] {
            // The adverts leave from the base interface; the VIP is still announced from the VMAC.
            #expect(s.advertSource.contains(s.baseMAC + " >") && s.neighbour.contains("lladdr \(Self.vrrpMAC)"),
                    "\(kind): \(s.baseMAC) \(s.advertSource) \(s.neighbour)")
        }
    }
}
