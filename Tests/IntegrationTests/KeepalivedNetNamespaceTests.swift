import Foundation
import TestSupport
import Testing

/// `net_namespace` and `-s`, beside keepalived 2.2.7: a router started in one namespace
/// runs in the one the file names (its VIP appears there and not where it was started),
/// and `-s` overrides the file. The control is the same file without net_namespace: the
/// router stays where it was started, whose lack of the interface keeps the VIP away.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"),
                             "needs root and keepalived"))
struct KeepalivedNetNamespaceTests {
    static let vip = "10.235.0.100"

    static func config(namespace: String?) -> String {
        (namespace.map { "net_namespace \($0)\n" } ?? "")
            + "vrrp_instance A {\n interface tkbn0\n virtual_router_id 7\n priority 100\n advert_int 0.2\n version 3\n"
            + " virtual_ipaddress {\n  \(vip)/24\n }\n}\n"
    }

    /// Where the VIP went: (in the target namespace, in the launching one).
    func run(_ kind: VRRPRouter.Kind, _ tag: String, config: (String) -> String, extra: [String] = []) throws -> (Bool, Bool, String) {
        let target = try TestNamespace("\(tag)t\(kind.rawValue.prefix(1))", prefix: "tkb")
        defer { target.remove() }
        let launcher = try TestNamespace("\(tag)l\(kind.rawValue.prefix(1))", prefix: "tkb")
        defer { launcher.remove() }
        // keepalived bind-mounts /run/keepalived/NAME over its pid directory; the directory stays.
        defer { rmdir("/run/keepalived/\(target.name)") }
        for argv in [["ip", "link", "add", "tkbn0", "type", "veth", "peer", "name", "tkbn1"], ["ip", "link", "set", "tkbn0", "up"],
                     ["ip", "link", "set", "tkbn1", "up"], ["ip", "addr", "add", "10.235.0.1/24", "dev", "tkbn0"]] {
            #expect(target.run(argv).status == 0, "\(argv)")
        }
        let router = try VRRPRouter(kind, in: launcher, config: config(target.name), extra: extra.map { $0 == "TARGET" ? target.name : $0 })
        defer { router.remove() }
        let there = eventually(within: 6) { target.run(["ip", "-4", "-br", "addr"]).stdout.contains(Self.vip + "/") }
        let here = launcher.run(["ip", "-4", "-br", "addr"]).stdout.contains(Self.vip + "/")
        router.stop()
        return (there, here, router.log)
    }

    @Test func runsInTheNamedNamespaceAsKeepalived() throws {
        for kind in VRRPRouter.Kind.allCases {
            let (there, here, log) = try run(kind, "nn", config: { Self.config(namespace: $0) })
            #expect(there && !here, "\(kind): \(log)")
            // The control: without net_namespace the router stays in the launcher.
            let (controlThere, _, _) = try run(kind, "nc", config: { _ in Self.config(namespace: nil) })
            #expect(!controlThere, "\(kind)")
        }
    }

    @Test func commandLineOverridesTheFile() throws {
        for kind in VRRPRouter.Kind.allCases {
            let (there, here, log) = try run(kind, "ns", config: { _ in Self.config(namespace: "tkb-nonexistent") }, extra: ["-s", "TARGET"])
            #expect(there && !here && log.contains("Overriding config net_namespace 'tkb-nonexistent' with command line namespace"), "\(kind): \(log)")
        }
    }

    /// `-t` checks where it is started, without entering the namespace, under both; the
    /// control is the daemon's start, which must enter it and so fails on a missing one.
    @Test func checkStaysWhereStarted() throws {
        let ns = try TestNamespace("nt", prefix: "tkb")
        defer { ns.remove() }
        #expect(ns.run(["ip", "link", "add", "tkbn0", "type", "veth", "peer", "name", "tkbn1"]).status == 0)
        let dir = NSTemporaryDirectory() + "tkb-nt-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.config(namespace: "tkb-nonexistent").write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let theirs = ns.run(["keepalived", "-t", "-f", dir + "/k.conf"]), ours = ns.tandem(["keepalived", "-t", "-f", dir + "/k.conf"])
        #expect(theirs.status == 0 && ours.status == 0, "keepalived \(theirs.status) \(theirs.stderr) tandem \(ours.status) \(ours.stderr)")
        let start = ns.tandem(["keepalived", "-n", "-l", "-f", dir + "/k.conf", "-p", dir + "/k.pid"])
        #expect(start.status == 1 && start.stderr.contains("Unable to set network namespace tkb-nonexistent - exiting"), "\(start.stderr)")
    }
}
