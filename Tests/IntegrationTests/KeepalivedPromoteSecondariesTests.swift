import Foundation
import TestSupport
import Testing

/// promote_secondaries beside keepalived 2.2.7, each in a namespace of its own with three
/// interfaces: tkgv0 under an instance with the keyword (the sysctl reads 0 before), tkgw0
/// under one without it (the control), tkgx0 under one with it whose sysctl an operator
/// already set. keepalived sets the sysctl while it runs where it read 0 and sets it back
/// to 0 at exit; one found at 1 stays 1 (vrrp.c's vrrp_complete_instance and
/// shutdown_vrrp_instances).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedPromoteSecondariesTests {
    static let interfaces = ["tkgv0", "tkgw0", "tkgx0"]

    static func instance(_ name: String, _ n: Int, promote: Bool) -> String {
        "vrrp_instance \(name) {\n  interface \(interfaces[n])\n  virtual_router_id \(51 + n)\n  priority 100\n  advert_int 1\n"
            + (promote ? "  promote_secondaries\n" : "") + "  virtual_ipaddress {\n    10.143.\(n * 10 + 1).1/24\n  }\n}\n"
    }

    static let config = instance("VI_1", 0, promote: true) + instance("VI_2", 1, promote: false) + instance("VI_3", 2, promote: true)

    static func namespace(_ tag: String) throws -> TestNamespace {
        let ns = try TestNamespace(tag, prefix: "tkg")
        for (n, i) in interfaces.enumerated() {
            let peer = String(i.dropLast()) + "1"
            for command in ["ip link add \(i) type veth peer name \(peer)", "ip link set \(peer) up", "ip link set \(i) up",
                            "ip addr add 10.143.\(n * 10).1/24 dev \(i)"] {
                let r = ns.run(["sh", "-c", command])
                if r.status != 0 { ns.remove(); throw TestSetupError("\(command): \(r.stderr)") }
            }
        }
        ns.run(["sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/tkgx0/promote_secondaries"])
        return ns
    }

    static func sysctl(_ ns: TestNamespace, _ interface: String) -> String {
        ns.run(["cat", "/proc/sys/net/ipv4/conf/\(interface)/promote_secondaries"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func holds(_ ns: TestNamespace, _ interface: String, _ address: String) -> Bool {
        !ns.run(["ip", "-4", "-o", "addr", "show", "dev", interface, "to", address]).stdout.isEmpty
    }

    /// While running: 1 where asked (and where already 1), 0 on the control. Deleting the
    /// primary of a hand-made pair keeps its secondary only where the sysctl is on. After
    /// a stop: back to 0 where the run set it, 1 left where it was found.
    @Test func setWhileRunningAndResetAtExitBesideKeepalived() throws {
        let a = try Self.namespace("psa")
        defer { a.remove() }
        let b = try Self.namespace("psb")
        defer { b.remove() }
        for ns in [a, b] { #expect(Self.interfaces.map { Self.sysctl(ns, $0) } == ["0", "0", "1"]) }
        let t = try VRRPRouter(.tandem, in: a, config: Self.config)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: b, config: Self.config)
        defer { k.remove() }
        try #require(eventually(within: 15) {
            [a, b].allSatisfy { ns in (0..<3).allSatisfy { Self.holds(ns, Self.interfaces[$0], "10.143.\($0 * 10 + 1).1") } }
        }, "\(t.log)\n\(k.log)")
        for (ns, who) in [(a, "tandem"), (b, "keepalived")] {
            #expect(Self.interfaces.map { Self.sysctl(ns, $0) } == ["1", "0", "1"], "\(who)")
            ns.run(["sh", "-c", "ip addr add 10.143.9.1/24 dev tkgv0 && ip addr add 10.143.9.2/24 dev tkgv0"])
            ns.run(["sh", "-c", "ip addr add 10.143.19.1/24 dev tkgw0 && ip addr add 10.143.19.2/24 dev tkgw0"])
            ns.run(["sh", "-c", "ip addr del 10.143.9.1/24 dev tkgv0 && ip addr del 10.143.19.1/24 dev tkgw0"])
            #expect(Self.holds(ns, "tkgv0", "10.143.9.2"), "\(who): the secondary was not promoted")
            #expect(!Self.holds(ns, "tkgw0", "10.143.19.2"), "\(who): the control kept its secondary")
        }
        let data = t.data()
        #expect(data.components(separatedBy: "   Promote_secondaries = enabled").count - 1 == 2, "\(data)")
        #expect(data.components(separatedBy: "   Promote_secondaries = disabled").count - 1 == 1, "\(data)")
        t.stop()
        k.stop()
        for (ns, who) in [(a, "tandem"), (b, "keepalived")] {
            #expect(Self.interfaces.map { Self.sysctl(ns, $0) } == ["0", "0", "1"], "\(who)")
        }
    }

    /// A reload that adds the keyword turns the sysctl on; one that takes it away leaves
    /// it on until exit, which turns it off (keepalived's per-interface counter).
    @Test func reloadAddsButDoesNotTakeAwayBesideKeepalived() throws {
        let without = Self.instance("VI_1", 0, promote: false)
        let with = Self.instance("VI_1", 0, promote: true)
        let a = try Self.namespace("pra")
        defer { a.remove() }
        let b = try Self.namespace("prb")
        defer { b.remove() }
        let t = try VRRPRouter(.tandem, in: a, config: without)
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: b, config: without)
        defer { k.remove() }
        try #require(eventually(within: 15) { [a, b].allSatisfy { Self.holds($0, "tkgv0", "10.143.1.1") } }, "\(t.log)\n\(k.log)")
        // The control: without the keyword nothing is set.
        #expect([a, b].map { Self.sysctl($0, "tkgv0") } == ["0", "0"])
        for r in [t, k] {
            try with.write(toFile: r.configPath, atomically: true, encoding: .utf8)
            r.signal(SIGHUP)
        }
        #expect(eventually(within: 10) { [a, b].allSatisfy { Self.sysctl($0, "tkgv0") == "1" } }, "\(t.log)\n\(k.log)")
        for r in [t, k] {
            try without.write(toFile: r.configPath, atomically: true, encoding: .utf8)
            r.signal(SIGHUP)
        }
        func count(_ log: String, _ line: String) -> Int { log.components(separatedBy: line).count - 1 }
        #expect(eventually(within: 10) { count(t.log, "Reloaded:") == 2 && count(k.log, "Reload complete") == 2 }, "\(t.log)\n\(k.log)")
        #expect([a, b].map { Self.sysctl($0, "tkgv0") } == ["1", "1"])
        t.stop()
        k.stop()
        #expect([a, b].map { Self.sysctl($0, "tkgv0") } == ["0", "0"])
    }

    /// On a use_vmac instance keepalived drops the word with a configuration error (`-t`
    /// exits 5); the control, the same instance without use_vmac, passes.
    @Test func onAVMACInstanceItIsDroppedWithKeepalivedsError() throws {
        let ns = try TestNamespace("pchk", prefix: "tkg")
        defer { ns.remove() }
        ns.run(["ip", "link", "add", "tkgv0", "type", "veth", "peer", "name", "tkgv1"])
        let dir = NSTemporaryDirectory() + ns.name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let words = "(VI_1) promote_secondaries is automatically set for vmacs - ignoring"
        for (name, extra, code) in [("vmac", "  use_vmac\n", Int32(5)), ("plain", "", Int32(0))] {
            let file = "\(dir)/\(name).conf"
            let text = Self.instance("VI_1", 0, promote: true).replacingOccurrences(of: "  promote_secondaries\n", with: "  promote_secondaries\n" + extra)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let theirs = ns.run(["timeout", "10", "keepalived", "-t", "-l", "-n", "-f", file], timeout: 20)
            let ours = ns.tandem(["keepalived", "-t", "-f", file])
            #expect(theirs.status == code && ours.status == code, "\(name): keepalived \(theirs.status) \(theirs.stderr)\ntandem \(ours.status) \(ours.stderr)")
            #expect(theirs.stderr.contains(words) == (code == 5) && ours.stderr.contains(words) == (code == 5),
                    "\(name): keepalived \(theirs.stderr)\ntandem \(ours.stderr)")
            #expect(!ours.stderr.contains("not supported"), "\(name): \(ours.stderr)")
        }
    }
}
