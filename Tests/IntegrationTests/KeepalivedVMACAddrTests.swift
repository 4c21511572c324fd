import Foundation
import TestSupport
import Testing

/// `use_vmac_addr` beside keepalived 2.2.7: the addresses written `dev` of another
/// interface go on a private-mode macvlan of that interface with the VRRP MAC, one per
/// interface, named as keepalived names it (vrrp.VRID, vrrp1.VRID beside the instance's
/// own VMAC, vmac_addr_prefix's), with the same sysctls; their gratuitous ARPs carry the
/// VRRP MAC (the router across, with arp_accept, learns it); the macvlans go at a stop.
/// The control is each tool without use_vmac_addr: the addresses on the interface itself
/// and the ARP entry holding its own MAC.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedVMACAddrTests {
    static let vrrpMAC = "00:00:5e:00:01:33"
    static let addresses = ["10.77.0.100", "10.77.1.100", "10.77.1.101"]

    static func config(_ pair: SwitchedPair, lines: [String], global: [String]) -> String {
        let (a0, a1) = (pair.interface("a", 0), pair.interface("a", 1))
        return "global_defs {\n  router_id tkd-a\n" + global.map { "  \($0)\n" }.joined() + "}\n"
            + "vrrp_instance VI_1 {\n  state BACKUP\n  interface \(a0)\n  virtual_router_id 51\n  priority 150\n  advert_int 0.2\n  version 3\n"
            + lines.map { "  \($0)\n" }.joined()
            + "  virtual_ipaddress {\n    10.77.0.100/24\n    10.77.1.100/24 dev \(a1)\n    10.77.1.101/24 dev \(a1)\n  }\n}\n"
    }

    struct Seen: Equatable, CustomStringConvertible {
        /// address → interface holding it (A0, A1 for the pair's own).
        var holder: [String: String] = [:]
        /// macvlan name → "parent MAC mode", parents as A0 / A1.
        var links: [String: String] = [:]
        var sysctls = ""
        var neighbour = ""
        var afterStop: [String] = []
        /// The SIGUSR1 dump's address and VMAC prefix lines, interface names as above.
        var dump: [String] = []
        var description: String { "holders \(holder) links \(links) sysctls \(sysctls) neighbour \(neighbour) after stop \(afterStop) dump \(dump)" }
    }

    func observe(_ kind: VRRPRouter.Kind, _ tag: String, lines: [String], global: [String] = []) throws -> Seen {
        let pair = try SwitchedPair(tag: "\(tag)\(kind.rawValue.prefix(1))", segments: 2, prefix: "tkd")
        defer { pair.remove() }
        let names = [pair.interface("a", 0): "A0", pair.interface("a", 1): "A1"]
        let b1 = pair.interface("b", 1)
        #expect(pair.b.run(["sysctl", "-qw", "net.ipv4.conf.\(b1).arp_accept=1"]).status == 0)
        let r = try VRRPRouter(kind, in: pair.a, config: Self.config(pair, lines: lines, global: global))
        defer { r.remove() }
        func holders() -> [String: String] {
            var out: [String: String] = [:]
            for line in pair.a.run(["ip", "-br", "addr"]).stdout.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard let name = words.first?.split(separator: "@").first.map(String.init) else { continue }
                for a in Self.addresses where words.contains(where: { $0.hasPrefix(a + "/") }) { out[a] = names[name] ?? name }
            }
            return out
        }
        #expect(eventually(within: 10) { holders().count == Self.addresses.count }, "\(kind) \(lines): \(holders())\n\(r.log)")
        // The ARP entry comes from the GARPs alone: b never talks to the address first.
        _ = eventually(within: 5) { pair.b.run(["ip", "neigh", "show", "10.77.1.100"]).stdout.contains("lladdr") }
        var s = Seen()
        s.holder = holders()
        var macvlans: [String] = []
        for line in pair.a.run(["ip", "-d", "-o", "link", "show", "type", "macvlan"]).stdout.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 1 else { continue }
            let full = words[1].hasSuffix(":") ? String(words[1].dropLast()) : words[1]
            let parts = full.split(separator: "@").map(String.init)
            let mac = words.firstIndex(of: "link/ether").map { words[$0 + 1] } ?? "?"
            let mode = words.firstIndex(of: "macvlan").flatMap { $0 + 2 < words.count ? words[$0 + 2] : nil } ?? "?"
            s.links[parts[0]] = "\(parts.count > 1 ? names[parts[1]] ?? parts[1] : "?") \(mac) \(mode)"
            macvlans.append(parts[0])
        }
        s.sysctls = macvlans.sorted().flatMap { m in
            ["ipv4/conf/\(m)/arp_ignore", "ipv4/conf/\(m)/accept_local", "ipv4/conf/\(m)/rp_filter", "ipv4/conf/\(m)/promote_secondaries",
             "ipv6/conf/\(m)/disable_ipv6"]
        }.map { pair.a.run(["cat", "/proc/sys/net/" + $0]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " ")
        let neighbour = pair.b.run(["ip", "neigh", "show", "10.77.1.100"]).stdout
        let a1MAC = pair.a.run(["cat", "/sys/class/net/\(pair.interface("a", 1))/address"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        s.neighbour = neighbour.contains(Self.vrrpMAC) ? "VRRP MAC" : neighbour.contains(a1MAC) ? "A1's MAC" : neighbour
        s.dump = r.data().split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { l in l.hasPrefix("VMAC prefix") || l.hasPrefix("VMAC address prefix") || Self.addresses.contains { l.hasPrefix($0 + "/") } }
            .map { names.reduce($0) { $0.replacingOccurrences(of: $1.key, with: $1.value) } }
        r.stop()
        _ = eventually(within: 5) { pair.a.run(["ip", "-o", "link", "show", "type", "macvlan"]).stdout.isEmpty }
        s.afterStop = pair.a.run(["ip", "-o", "link", "show", "type", "macvlan"]).stdout.split(separator: "\n").map(String.init)
        return s
    }

    @Test func addressesOnAnotherInterfaceGetAVMACThere() throws {
        let ours = try observe(.tandem, "vd", lines: ["use_vmac_addr"]), theirs = try observe(.keepalived, "vd", lines: ["use_vmac_addr"])
        #expect(theirs.holder == ["10.77.0.100": "A0", "10.77.1.100": "vrrp.51", "10.77.1.101": "vrrp.51"]
                && theirs.links == ["vrrp.51": "A1 \(Self.vrrpMAC) private"] && theirs.neighbour == "VRRP MAC", "keepalived: \(theirs)")
        #expect(ours == theirs, "tandem: \(ours)\nkeepalived: \(theirs)")
        // The control: without use_vmac_addr the addresses are on A1 and answer with its MAC.
        let plain = try observe(.tandem, "vp", lines: []), theirPlain = try observe(.keepalived, "vp", lines: [])
        #expect(theirPlain.links.isEmpty && theirPlain.holder["10.77.1.100"] == "A1" && theirPlain.neighbour == "A1's MAC", "keepalived: \(theirPlain)")
        #expect(plain == theirPlain, "tandem: \(plain)\nkeepalived: \(theirPlain)")
    }

    @Test func besideUseVMACAndWithAPrefix() throws {
        let both = ["use_vmac", "use_vmac_addr"]
        let ours = try observe(.tandem, "vb", lines: both), theirs = try observe(.keepalived, "vb", lines: both)
        #expect(theirs.links == ["vrrp.51": "A0 \(Self.vrrpMAC) private", "vrrp1.51": "A1 \(Self.vrrpMAC) private"], "keepalived: \(theirs)")
        #expect(ours == theirs, "tandem: \(ours)\nkeepalived: \(theirs)")
        let prefixed = ["vmac_prefix tv", "vmac_addr_prefix tkdaddr"]
        let ourNames = try observe(.tandem, "vx", lines: both, global: prefixed), theirNames = try observe(.keepalived, "vx", lines: both, global: prefixed)
        #expect(theirNames.links.keys.sorted() == ["tkdaddr.51", "tv.51"], "keepalived: \(theirNames)")
        #expect(ourNames == theirNames, "tandem: \(ourNames)\nkeepalived: \(theirNames)")
    }

    /// garp_extra_if without `all` repeats on use_vmac_addr's macvlan, as keepalived's
    /// vrrp_send_vmac_update does for the interfaces it made; the control is the same
    /// instance without use_vmac_addr, where the other interface hears only the first GARP.
    @Test(arguments: VRRPRouter.Kind.allCases, [true, false])
    func garpExtraIfRepeatsOnTheMacvlan(_ kind: VRRPRouter.Kind, _ vmacAddr: Bool) throws {
        let tag = "ge\(kind.rawValue.prefix(1))\(vmacAddr ? 1 : 0)"
        let pair = try SwitchedPair(tag: tag, segments: 2, prefix: "tkd")
        defer { pair.remove() }
        let capture = NSTemporaryDirectory() + "tkd-extra-\(getpid())-\(tag).txt"
        defer { try? FileManager.default.removeItem(atPath: capture); try? FileManager.default.removeItem(atPath: capture + ".err") }
        let dump = try pair.b.start(["tcpdump", "-i", pair.interface("b", 1), "-nn", "-l", "arp"], stdout: capture, stderr: capture + ".err")
        defer { dump.stop() }
        _ = eventually(within: 3) { Vectors.readText(capture + ".err").contains("listening") }
        let lines = ["garp_master_repeat 1", "garp_master_delay 60", "garp_extra_if 1"] + (vmacAddr ? ["use_vmac_addr"] : [])
        let router = try VRRPRouter(kind, in: pair.a, config: Self.config(pair, lines: lines, global: []))
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", "10.77.1.100") }, "\(router.log)")
        usleep(3_600_000)
        let seen = Vectors.readText(capture).split(separator: "\n").filter { $0.contains("Request who-has 10.77.1.100 (ff:ff:ff:ff:ff:ff) tell 10.77.1.100") }.count
        if vmacAddr {
            // The first one, then one each second (at an advert's time in keepalived).
            #expect((3...5).contains(seen), "\(kind): \(Vectors.readText(capture))\n\(router.log)")
        } else {
            #expect(seen == 1, "\(kind): \(Vectors.readText(capture))")
        }
    }
}
