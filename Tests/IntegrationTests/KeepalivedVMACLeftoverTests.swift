import Foundation
import TestSupport
import Testing

/// An earlier run's macvlans beside keepalived 2.2.7, each tool in a namespace of its own
/// holding the same links. keepalived's vrrp_complete_instance takes a private macvlan with
/// the VRRP MAC over as it finds it: the instance's VMAC (use_vmac) and, through
/// if_get_by_vmac, one on the interface a use_vmac_addr address names, whatever its name.
/// Taken over "as it is" means not brought up: found down, the instance is in FAULT until
/// someone brings the link up. Both are deleted at the stop like the ones a run makes.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedVMACLeftoverTests {
    static func config(_ use: String, addresses: [String] = ["10.141.1.1/24"]) -> String {
        "vrrp_instance VI_1 {\n  interface tkfv0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  \(use)\n"
            + "  virtual_ipaddress {\n" + addresses.map { "    \($0)\n" }.joined() + "  }\n}\n"
    }

    /// The instance's interface (tkfv0, with an IPv4 address) and `links`.
    static func namespace(_ tag: String, links: [String]) throws -> TestNamespace {
        let ns = try TestNamespace(tag, prefix: "tkf")
        for command in ["ip link add tkfv0 type veth peer name tkfv1", "ip link set tkfv1 up", "ip link set tkfv0 up",
                        "ip addr add 10.141.0.1/24 dev tkfv0"] + links {
            let r = ns.run(["sh", "-c", command])
            if r.status != 0 { ns.remove(); throw TestSetupError("\(command): \(r.stderr)") }
        }
        return ns
    }

    /// Name → "index flags kind" of every macvlan.
    static func macvlans(_ ns: TestNamespace) -> [String: String] {
        var result: [String: String] = [:]
        for line in ns.run(["ip", "-o", "-d", "link", "show", "type", "macvlan"]).stdout.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 2 else { continue }
            let name = String(words[1].dropLast().prefix { $0 != "@" })
            let up = words[2].contains(",UP") || words[2].contains("<UP")
            result[name] = "\(words[0]) \(up ? "up" : "down")"
        }
        return result
    }

    /// The interface holding `address`, with the link it hangs from (`vrrp.51@tkfv0`).
    static func holder(_ ns: TestNamespace, _ address: String) -> String? {
        guard let name = ns.run(["ip", "-4", "-o", "addr", "show", "to", address]).stdout.split(separator: " ").dropFirst().first
            .map({ String($0) }) else { return nil }
        return ns.run(["ip", "-o", "link", "show", "dev", name]).stdout.split(separator: " ").dropFirst().first.map { String($0.dropLast()) }
    }

    /// The instance's state in a SIGUSR1 data dump.
    static func state(in dump: String) -> String? {
        guard let at = dump.range(of: " VRRP Instance = VI_1\n"), let line = dump[at.upperBound...].range(of: "   State = ") else { return nil }
        return String(dump[line.upperBound...].prefix { $0 != "\n" })
    }

    func beside(_ tag: String, config: String, links: [String],
                _ body: (_ ours: TestNamespace, _ theirs: TestNamespace, _ t: VRRPRouter, _ k: VRRPRouter,
                         _ before: [String: String]) throws -> Void) throws {
        let a = try Self.namespace(tag + "a", links: links)
        defer { a.remove() }
        let b = try Self.namespace(tag + "b", links: links)
        defer { b.remove() }
        let before = Self.macvlans(a)
        try #require(before == Self.macvlans(b), "\(before)\n\(Self.macvlans(b))")
        let t = try VRRPRouter(.tandem, in: a, config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: b, config: config)
        defer { k.remove() }
        try body(a, b, t, k, before)
    }

    /// keepalived does not bring a VMAC it took over up: found down, the instance goes
    /// FAULT on it and the link stays down. The control, in the same run: the link brought
    /// up by hand, the instance leaves FAULT and becomes MASTER on it, on both.
    @Test func aLeftoverVMACFoundDownIsAFaultUntilBroughtUp() throws {
        let leftover = ["ip link add link tkfv0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private"]
        try beside("ld", config: Self.config("use_vmac"), links: leftover) { a, b, t, k, before in
            #expect(before["vrrp.51"]?.hasSuffix("down") == true, "\(before)")
            // The logs first: a dump asked of a process still starting could kill it.
            try #require(eventually(within: 15) {
                t.log.contains("(VI_1) entering FAULT state (vrrp.51 down)") && k.log.contains("(VI_1): entering FAULT state (interface vrrp.51 down)")
            }, "\(t.log)\n\(k.log)")
            #expect(Self.state(in: t.data()) == "FAULT" && Self.state(in: k.data()) == "FAULT")
            // The same link as before, still down, without the VIP, on both.
            #expect(Self.macvlans(a) == before && Self.macvlans(b) == before, "tandem \(Self.macvlans(a))\nkeepalived \(Self.macvlans(b))")
            #expect(Self.holder(a, "10.141.1.1") == nil && Self.holder(b, "10.141.1.1") == nil)
            for ns in [a, b] { ns.run(["ip", "link", "set", "vrrp.51", "up"]) }
            #expect(eventually(within: 15) { Self.holder(a, "10.141.1.1") == "vrrp.51@tkfv0" && Self.holder(b, "10.141.1.1") == "vrrp.51@tkfv0" },
                    "\(t.log)\n\(k.log)")
            #expect(Self.state(in: t.data()) == "MASTER" && Self.state(in: k.data()) == "MASTER")
            t.stop()
            k.stop()
            #expect(Self.macvlans(a).isEmpty && Self.macvlans(b).isEmpty, "tandem \(Self.macvlans(a))\nkeepalived \(Self.macvlans(b))")
        }
    }

    /// use_vmac_addr: a private macvlan with the VRRP MAC on the address's interface is an
    /// earlier run's (keepalived's if_get_by_vmac), taken over under its own name (old51)
    /// rather than stepped around. The control, in the same run: the address on an
    /// interface without such a macvlan gets a new one (vrrp.51); a macvlan with the VRRP
    /// MAC on the instance's own interface (other51) is no address's and stays after the stop.
    @Test func aLeftoverAddressVMACIsTakenOver() throws {
        let links = ["ip link add tkfw0 type veth peer name tkfw1", "ip link set tkfw1 up", "ip link set tkfw0 up",
                     "ip link add tkfx0 type veth peer name tkfx1", "ip link set tkfx1 up", "ip link set tkfx0 up",
                     "ip link add link tkfw0 name old51 address 00:00:5e:00:01:33 type macvlan mode private", "ip link set old51 up",
                     "ip link add link tkfv0 name other51 address 00:00:5e:00:01:33 type macvlan mode private"]
        let config = Self.config("use_vmac_addr", addresses: ["10.141.1.1/24", "10.141.2.1/24 dev tkfw0", "10.141.3.1/24 dev tkfx0"])
        try beside("la", config: config, links: links) { a, b, t, k, before in
            let addresses = ["10.141.1.1", "10.141.2.1", "10.141.3.1"]
            try #require(eventually(within: 15) { addresses.allSatisfy { Self.holder(a, $0) != nil && Self.holder(b, $0) != nil } },
                         "\(t.log)\n\(k.log)")
            let theirs = addresses.map { Self.holder(b, $0) }, ours = addresses.map { Self.holder(a, $0) }
            #expect(theirs == ["tkfv0@tkfv1", "old51@tkfw0", "vrrp.51@tkfx0"], "\(theirs)")
            #expect(ours == theirs, "tandem \(ours)\nkeepalived \(theirs)")
            // old51 is the link that was there (its index), not a new one of its name.
            #expect(Self.macvlans(a)["old51"] == before["old51"] && Self.macvlans(b)["old51"] == before["old51"])
            t.stop()
            k.stop()
            let after = before.filter { $0.key == "other51" }
            #expect(Self.macvlans(a) == after && Self.macvlans(b) == after, "tandem \(Self.macvlans(a))\nkeepalived \(Self.macvlans(b))")
        }
    }
}
