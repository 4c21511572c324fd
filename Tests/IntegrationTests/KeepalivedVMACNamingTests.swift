import Foundation
import TestSupport
import Testing

/// use_vmac beside keepalived 2.2.7 when a link already has the VMAC's name: each tool in a
/// namespace of its own, holding the same links, takes the same name. A veth named
/// vrrp.51 is stepped around (vrrp1.51); a written name that is a veth is keepalived's
/// error (`-t` exits 5) and vrrp.51 is used; an earlier run's VMAC (private macvlan, VRRP
/// MAC) is taken over as it is and removed at the stop. The control of each: the link
/// that was there before is there after, untouched (or, taken over, the same link).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedVMACNamingTests {
    static func config(_ use: String) -> String {
        "vrrp_instance VI_1 {\n  interface tkev0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  \(use)\n"
            + "  virtual_ipaddress {\n    10.1.1.1/24\n  }\n}\n"
    }

    /// A namespace with the instance's interface (tkev0, with an IPv4 address) and `links`.
    static func namespace(_ tag: String, links: [String]) throws -> TestNamespace {
        let ns = try TestNamespace(tag, prefix: "tke")
        for command in ["ip link add tkev0 type veth peer name tkev1", "ip link set tkev1 up", "ip link set tkev0 up",
                        "ip addr add 10.9.0.1/24 dev tkev0"] + links {
            let r = ns.run(["sh", "-c", command])
            if r.status != 0 { ns.remove(); throw TestSetupError("\(command): \(r.stderr)") }
        }
        return ns
    }

    /// Name → "index kind-ish details" of every link but the instance's own pair and lo.
    static func links(_ ns: TestNamespace) -> [String: String] {
        var result: [String: String] = [:]
        for line in ns.run(["ip", "-o", "-d", "link", "show"]).stdout.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count > 2 else { continue }
            let name = String(words[1].dropLast().prefix { $0 != "@" })
            guard !["lo", "tkev0", "tkev1"].contains(name) else { continue }
            let kind = words.firstIndex(of: "macvlan").map { m in "macvlan " + (words[m...].firstIndex(of: "mode").map { words[$0 + 1] } ?? "?") } ?? "other"
            result[name] = "\(words[0]) \(kind)"
        }
        return result
    }

    /// The interface holding the VIP, and with `parent` the link it hangs from (`vrrp.51@tkev0`).
    static func holder(_ ns: TestNamespace, _ address: String = "10.1.1.1", parent: Bool = false) -> String? {
        guard let name = ns.run(["ip", "-4", "-o", "addr", "show", "to", address]).stdout.split(separator: " ").dropFirst().first
            .map({ String($0) }) else { return nil }
        guard parent else { return name }
        return ns.run(["ip", "-o", "link", "show", "dev", name]).stdout.split(separator: " ").dropFirst().first.map { String($0.dropLast()) }
    }

    /// Runs both tools, each in its own namespace holding `links`; hands over both.
    /// `before`: the links (with their indexes) each namespace held before the start.
    func beside(_ tag: String, use: String, links: [String], _ body: (_ ours: TestNamespace, _ theirs: TestNamespace,
                                                                     _ before: [String: String], _ stop: () -> Void) throws -> Void) throws {
        try beside(tag, config: Self.config(use), links: links, body)
    }

    func beside(_ tag: String, config: String, links: [String], _ body: (_ ours: TestNamespace, _ theirs: TestNamespace,
                                                                     _ before: [String: String], _ stop: () -> Void) throws -> Void) throws {
        let a = try Self.namespace(tag + "a", links: links)
        defer { a.remove() }
        let b = try Self.namespace(tag + "b", links: links)
        defer { b.remove() }
        // Both namespaces were made alike: the same links at the same indexes.
        let before = Self.links(a)
        try #require(before == Self.links(b), "\(before)\n\(Self.links(b))")
        let t = try VRRPRouter(.tandem, in: a, config: config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: b, config: config)
        defer { k.remove() }
        try #require(eventually(within: 15) { Self.holder(a) != nil && Self.holder(b) != nil }, "\(t.log)\n\(k.log)")
        try body(a, b, before) { t.stop(); k.stop() }
    }

    @Test func aVethOfTheDefaultNameIsSteppedAround() throws {
        try beside("vs", use: "use_vmac", links: ["ip link add vrrp.51 type veth peer name tkex1"]) { a, b, before, stop in
            #expect(Self.holder(b) == "vrrp1.51" && Self.holder(a) == "vrrp1.51", "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
            stop()
            // The veth stays as it was, the VMAC goes, on both.
            #expect(Self.links(a) == before && Self.links(b) == before, "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
        }
    }

    @Test func aWrittenNameThatIsAVethIsIgnoredWithKeepalivedsError() throws {
        let links = ["ip link add myvmac type veth peer name tkex1"]
        let ns = try Self.namespace("vwc", links: links)
        defer { ns.remove() }
        let file = NSTemporaryDirectory() + ns.name + ".conf"
        try Self.config("use_vmac myvmac").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let words = "(VI_1) interface myvmac already exists and is not a private macvlan; ignoring vmac if_name"
        let theirs = ns.run(["timeout", "10", "keepalived", "-t", "-l", "-n", "-f", file], timeout: 20)
        let ours = ns.tandem(["keepalived", "-t", "-f", file])
        #expect(theirs.status == 5 && theirs.stderr.contains(words), "\(theirs.status) \(theirs.stderr)")
        #expect(ours.status == 5 && ours.stderr.contains(words) && ours.stderr.contains("\(file):6:"), "\(ours.status) \(ours.stderr)")
        try beside("vw", use: "use_vmac myvmac", links: links) { a, b, before, stop in
            #expect(Self.holder(b) == "vrrp.51" && Self.holder(a) == "vrrp.51", "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
            stop()
            #expect(Self.links(a) == before && Self.links(b) == before, "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
        }
    }

    @Test func anEarlierRunsVMACIsTakenOver() throws {
        let leftover = ["ip link add link tkev0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private", "ip link set vrrp.51 up"]
        try beside("vt", use: "use_vmac", links: leftover) { a, b, before, stop in
            #expect(Self.holder(b) == "vrrp.51" && Self.holder(a) == "vrrp.51")
            // The same link as before (its index), not a new one, and no other.
            #expect(before.count == 1 && before["vrrp.51"]?.hasSuffix("macvlan private") == true, "\(before)")
            #expect(Self.links(a) == before && Self.links(b) == before, "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
            stop()
            #expect(Self.links(a).isEmpty && Self.links(b).isEmpty, "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
        }
    }

    /// use_vmac NAME MAC: the VMAC (and use_vmac_addr's macvlan for an address on another
    /// interface) takes the MAC written, five octets completed by the VRID, as under
    /// keepalived. The control: an RFC 5798 MAC written is keepalived's error and the VRRP
    /// MAC is used, on both.
    @Test func aMACOfItsOwnIsTheVMACs() throws {
        func mac(_ ns: TestNamespace, _ link: String) -> String? {
            let words = ns.run(["ip", "-o", "link", "show", "dev", link]).stdout.split(separator: " ")
            return words.firstIndex(of: "link/ether").map { String(words[$0 + 1]) }
        }
        let config = Self.config("use_vmac vx9 02:11:22:33:44\n  use_vmac_addr")
            .replacingOccurrences(of: "    10.1.1.1/24\n", with: "    10.1.1.1/24\n    10.1.2.1/24 dev tkew0\n")
        let extra = ["ip link add tkew0 type veth peer name tkew1", "ip link set tkew1 up", "ip link set tkew0 up"]
        try beside("vm", config: config, links: extra) { a, b, before, stop in
            try #require(eventually(within: 10) { Self.holder(a, "10.1.2.1") != nil && Self.holder(b, "10.1.2.1") != nil })
            let theirs = [mac(b, "vx9"), mac(b, Self.holder(b, "10.1.2.1") ?? "")], ours = [mac(a, "vx9"), mac(a, Self.holder(a, "10.1.2.1") ?? "")]
            #expect(theirs == ["02:11:22:33:44:33", "02:11:22:33:44:33"], "\(theirs)")
            #expect(ours == theirs, "tandem \(ours)\nkeepalived \(theirs)")
            stop()
            #expect(Self.links(a) == before && Self.links(b) == before, "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
        }
        try beside("vr", use: "use_vmac vx9 00:00:5e:00:01:07", links: []) { a, b, _, stop in
            #expect(mac(b, "vx9") == "00:00:5e:00:01:33" && mac(a, "vx9") == mac(b, "vx9"), "tandem \(mac(a, "vx9") ?? "-") keepalived \(mac(b, "vx9") ?? "-")")
            stop()
        }
    }

    /// An address's own use_vmac on an instance without use_vmac: keepalived puts it on a
    /// macvlan of its interface (the instance's own, or the one its `dev` names), one per
    /// interface. The control: the plain address stays on the instance's interface.
    @Test func anAddressOfItsOwnGoesOnAMacvlanOfItsInterface() throws {
        let config = Self.config("").replacingOccurrences(of: "    10.1.1.1/24\n",
                                                           with: "    10.1.1.1/24 use_vmac\n    10.1.2.1/24 dev tkew0 use_vmac\n    10.1.3.1/24\n")
        let extra = ["ip link add tkew0 type veth peer name tkew1", "ip link set tkew1 up", "ip link set tkew0 up"]
        try beside("va", config: config, links: extra) { a, b, before, stop in
            let addresses = ["10.1.1.1", "10.1.2.1", "10.1.3.1"]
            try #require(eventually(within: 10) { addresses.allSatisfy { Self.holder(a, $0) != nil && Self.holder(b, $0) != nil } })
            let theirs = addresses.map { Self.holder(b, $0, parent: true) }, ours = addresses.map { Self.holder(a, $0, parent: true) }
            #expect(theirs == ["vrrp.51@tkev0", "vrrp1.51@tkew0", "tkev0@tkev1"], "\(theirs)")
            #expect(ours == theirs, "tandem \(ours)\nkeepalived \(theirs)")
            stop()
            #expect(Self.links(a) == before && Self.links(b) == before, "tandem \(Self.links(a))\nkeepalived \(Self.links(b))")
        }
    }
}
