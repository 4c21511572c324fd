import Foundation
import TestSupport
import Testing

/// use_vmac on an IPv6 instance beside keepalived 2.2.7, each tool alone on a pair's side
/// a: the macvlan vrrp.52 with the IPv6 VRRP MAC 00:00:5e:00:02:34 (addrgenmode none,
/// IPv6 on), the VIP on it beside the interface's own link-local (no DAD, deprecated: the
/// adverts' source), the same `ip6` nftables table, the other router's neighbour entry for
/// the VIP holding the VRRP MAC, the adverts leaving from it, and nothing left after a
/// stop. The control is each tool without use_vmac: the neighbour entry then holds the
/// interface's own MAC and there is no macvlan.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived") && Shell.which("nft") && Shell.which("tcpdump"),
                             "needs root, keepalived, nft and tcpdump"))
struct KeepalivedVMACIPv6Tests {
    static let vip = "fd41::1"
    static let vmac = "vrrp.52"
    static let vrrpMAC = "00:00:5e:00:02:34"

    struct Seen {
        var link = ""
        var addresses = ""
        var disableIPv6 = ""
        var ruleset = ""
        var neighbour = ""
        var advertSource = ""
        var baseMAC = ""
        var base = ""
        var linksAfterStop = ""
        var rulesetAfterStop = ""
        var log = ""
    }

    /// `extra`: more lines for the instance.
    func observe(_ kind: VRRPRouter.Kind, _ tag: String, vmac: Bool, extra: [String] = []) throws -> Seen {
        let pair = try KeepalivedIPv6Tests.pair("\(tag)\(kind.rawValue.prefix(1))", prefix: "tkf")
        defer { pair.remove() }
        let base = pair.interface("a", 0)
        let config = "vrrp_instance VI_6 {\n  interface \(base)\n  virtual_router_id 52\n  priority 150\n  advert_int 1\n"
            + (vmac ? "  use_vmac\n" : "") + extra.map { "  \($0)\n" }.joined() + "  virtual_ipaddress {\n    \(Self.vip)/64\n  }\n}\n"
        // b reaches the VIP in its subnet; its address needs no DAD wait.
        pair.b.run(["ip", "-6", "addr", "add", "fd41::2/64", "dev", pair.interface("b", 0), "nodad"])
        let a = try VRRPRouter(kind, in: pair.a, config: config)
        defer { a.remove() }
        let holds = { pair.a.run(["ip", "-6", "-br", "addr"]).stdout.contains(Self.vip + "/") }
        var s = Seen()
        #expect(eventually(within: 15) { holds() }, "\(kind) \(vmac): \(a.log)")
        s.base = base
        s.link = pair.a.run(["ip", "-d", "link", "show", Self.vmac]).stdout
        s.addresses = pair.a.run(["ip", "-6", "addr", "show", "dev", vmac ? Self.vmac : base]).stdout
        s.disableIPv6 = pair.a.run(["cat", "/proc/sys/net/ipv6/conf/\(Self.vmac)/disable_ipv6"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        s.ruleset = pair.a.run(["nft", "list", "ruleset"]).stdout
        // b asks for the VIP (a neighbour solicitation) and keeps the answer's MAC.
        pair.b.run(["ping", "-6", "-c", "1", "-W", "3", Self.vip], timeout: 10)
        s.neighbour = pair.b.run(["ip", "-6", "neigh", "show", Self.vip]).stdout
        s.advertSource = pair.b.run(["timeout", "4", "tcpdump", "-c", "1", "-enli", pair.interface("b", 0), "ip6 proto 112"], timeout: 8).stdout
        s.baseMAC = pair.a.run(["cat", "/sys/class/net/\(base)/address"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        a.stop()
        s.log = a.log
        s.linksAfterStop = pair.a.run(["ip", "-br", "link"]).stdout
        s.rulesetAfterStop = pair.a.run(["nft", "list", "ruleset"]).stdout
        return s
    }

    @Test func ipv6VMACAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "v6", vmac: true), keepalived = try observe(.keepalived, "v6", vmac: true)
        for (kind, s) in [("tandem", tandem), ("keepalived", keepalived)] {
            #expect(s.link.contains("link/ether \(Self.vrrpMAC)") && s.link.contains("macvlan mode private") && s.link.contains("addrgenmode none")
                    && s.link.contains(",UP"), "\(kind): \(s.link)")
            #expect(s.addresses.contains("inet6 \(Self.vip)/64") && s.addresses.contains("inet6 fe80::77:a/64 scope link nodad deprecated"),
                    "\(kind): \(s.addresses)")
            #expect(s.disableIPv6 == "0", "\(kind): \(s.disableIPv6)")
            #expect(s.neighbour.contains("lladdr \(Self.vrrpMAC)"), "\(kind): \(s.neighbour)")
            #expect(s.advertSource.contains(Self.vrrpMAC + " >") && s.advertSource.contains("fe80::77:a >"), "\(kind): \(s.advertSource)")
            #expect(!s.linksAfterStop.contains(Self.vmac), "\(kind): \(s.linksAfterStop)")
        }
        // Each pair has its own interface names.
        func shape(_ s: Seen) -> String { s.ruleset.replacingOccurrences(of: s.base, with: "BASE") }
        #expect(shape(tandem) == shape(keepalived) && tandem.ruleset.contains("table ip6 keepalived") && tandem.ruleset.contains("vmac_set"),
                "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)")
        #expect(tandem.rulesetAfterStop.isEmpty, "\(tandem.rulesetAfterStop)")
        // The control: without use_vmac the VIP answers from the interface's own MAC.
        let plain = try observe(.tandem, "p6", vmac: false), theirs = try observe(.keepalived, "p6", vmac: false)
        for s in [plain, theirs] {
            #expect(s.neighbour.contains("lladdr \(s.baseMAC)") && !s.neighbour.contains(Self.vrrpMAC) && s.link.isEmpty, "\(s.neighbour)")
        }
    }

    /// use_vmac with no_accept on an IPv6 instance: one `ip6` table holds both the VMAC's
    /// rules and the non-accept drop, the same as keepalived's. The control is
    /// `ipv6VMACAsUnderKeepalived`'s table, which has the VMAC's rules and no drop.
    @Test func ipv6VMACWithNoAcceptIsOneTableAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "n6", vmac: true, extra: ["no_accept"])
        let keepalived = try observe(.keepalived, "n6", vmac: true, extra: ["no_accept"])
        func shape(_ s: Seen) -> String { s.ruleset.replacingOccurrences(of: s.base, with: "BASE") }
        #expect(shape(tandem) == shape(keepalived) && tandem.ruleset.contains("vmac_set") && tandem.ruleset.contains("ip6 daddr @vips drop")
                && tandem.ruleset.components(separatedBy: "table ip6 keepalived").count == 2,
                "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)")
        #expect(tandem.rulesetAfterStop.isEmpty && !tandem.linksAfterStop.contains(Self.vmac), "\(tandem.rulesetAfterStop)")
        let accepting = try observe(.tandem, "a6", vmac: true)
        #expect(accepting.ruleset.contains("vmac_set") && !accepting.ruleset.contains("@vips drop"), "\(accepting.ruleset)")
    }

    /// use_vmac_addr on an IPv6 instance, each tool in a namespace of its own holding the
    /// same links: the address written `dev tkfw0` goes on vrrp.52@tkfw0 with the IPv6
    /// VRRP MAC and tkfw0's link-local (no DAD, deprecated), no nftables table, and it is
    /// gone after the stop. The control, in the same run: the address on the instance's
    /// own interface stays there.
    @Test func ipv6AddressVMACAsUnderKeepalived() throws {
        let config = "vrrp_instance VI_6 {\n  interface tkfv0\n  virtual_router_id 52\n  priority 100\n  advert_int 1\n  use_vmac_addr\n"
            + "  virtual_ipaddress {\n    fd41::1/64\n    fd42::1/64 dev tkfw0\n  }\n}\n"
        var seen: [String] = []
        for kind in [VRRPRouter.Kind.tandem, .keepalived] {
            let ns = try TestNamespace("a6\(kind.rawValue.prefix(1))", prefix: "tkf")
            defer { ns.remove() }
            for command in ["ip link add tkfv0 type veth peer name tkfv1", "ip link add tkfw0 type veth peer name tkfw1",
                            "ip link set tkfv1 up", "ip link set tkfw1 up", "ip link set tkfv0 up", "ip link set tkfw0 up",
                            "ip -6 addr flush dev tkfv0 scope link", "ip -6 addr flush dev tkfw0 scope link",
                            "ip -6 addr add fe80::41:a/64 dev tkfv0 nodad", "ip -6 addr add fe80::42:a/64 dev tkfw0 nodad"] {
                let r = ns.run(["sh", "-c", command])
                try #require(r.status == 0, "\(command): \(r.stderr)")
            }
            let router = try VRRPRouter(kind, in: ns, config: config)
            defer { router.remove() }
            let holder = { (address: String) -> String in
                let name = ns.run(["ip", "-6", "-o", "addr", "show", "to", address]).stdout.split(separator: " ").dropFirst().first.map(String.init) ?? ""
                return name.isEmpty ? "" : ns.run(["ip", "-o", "link", "show", "dev", name]).stdout.split(separator: " ").dropFirst().first.map { String($0.dropLast()) } ?? ""
            }
            #expect(eventually(within: 15) { holder("fd41::1") != "" && holder("fd42::1") != "" }, "\(kind): \(router.log)")
            let link = ns.run(["ip", "-d", "link", "show", "vrrp.52"]).stdout
            let addresses = ns.run(["ip", "-6", "addr", "show", "dev", "vrrp.52"]).stdout
            #expect(holder("fd42::1") == "vrrp.52@tkfw0" && holder("fd41::1") == "tkfv0@tkfv1", "\(kind): \(holder("fd42::1")) \(holder("fd41::1"))")
            #expect(link.contains("link/ether \(Self.vrrpMAC)") && link.contains("macvlan mode private") && link.contains("addrgenmode none"), "\(kind): \(link)")
            #expect(addresses.contains("inet6 fe80::42:a/64 scope link nodad deprecated"), "\(kind): \(addresses)")
            #expect(ns.run(["nft", "list", "ruleset"]).stdout.isEmpty, "\(kind)")
            router.stop()
            #expect(!ns.run(["ip", "-br", "link"]).stdout.contains("vrrp.52"), "\(kind)")
            seen.append(holder("fd42::1"))
        }
        #expect(seen == ["", ""])
    }
}
