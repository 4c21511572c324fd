import Foundation
import TestSupport
import Testing

/// `tandem run` on two namespaces joined by one link (VRRP and sync on it): a fresh node
/// with a higher priority does not take over from the master until the master's table
/// has reached it (sync-health demotion), then takes over with every flow committed
/// before its address comes up. The control run without demotion takes over with an
/// empty table, proving the test can fail.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft"), "needs root, conntrack and nft"))
struct FailoverNodeTests {
    static let vip = "10.98.0.100"

    struct Node {
        let namespace: TestNamespace
        let interface: String
        let address: String
        let peer: String
        let directory: String

        var log: String { directory + "/tandem.log" }

        /// `advertInterval`: a sub-second advert_int runs VRRPv3 (which has no authentication).
        /// `syncLink`: UDP, TCP or Multicast (group 225.0.0.50) between the two addresses;
        /// `receiveBuffer`: the UDP link's RcvSocketBuffer (the system's default without).
        func writeConfigs(priority: Int, state: String, advertInterval: String = "1", syncLink: String = "UDP", receiveBuffer: Int? = nil) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let v3 = advertInterval.contains(".")
            let timing = v3 ? "advert_int \(advertInterval)\n    version 3" : "advert_int \(advertInterval)"
            let authentication = v3 ? "" : """
            authentication {
                    auth_type PASS
                    auth_pass 1111
                }
            """
            let keepalived = """
            ! written by FailoverNodeTests
            vrrp_instance V {
                state \(state)
                interface \(interface)
                virtual_router_id 51
                priority \(priority)
                \(timing)
                unicast_src_ip \(address)
                unicast_peer {
                    \(peer)
                }
                \(authentication)
                virtual_ipaddress {
                    \(FailoverNodeTests.vip)/24 dev \(interface)
                }
            }
            """
            let link = syncLink == "Multicast" ? """
            Multicast {
                    IPv4_address 225.0.0.50
                    Group 3780
                    IPv4_interface \(address)
                    Interface \(interface)
                }
            """ : """
            \(syncLink) {
                    IPv4_address \(address)
                    IPv4_Destination_Address \(peer)
                    Port 3780
                    Interface \(interface)
                    \(receiveBuffer.map { "RcvSocketBuffer \($0)" } ?? "")
                }
            """
            let conntrackd = """
            Sync {
                Mode FTFW {
                    CommitTimeout 180
                    PurgeTimeout 5
                }
                \(link)
            }
            General {
                LockFile \(directory)/lock
                UNIX {
                    Path \(directory)/ctl
                }
                Filter From Userspace {
                    Address Ignore {
                        IPv4_address 10.98.0.1
                        IPv4_address 10.98.0.2
                        IPv4_address \(FailoverNodeTests.vip)
                    }
                }
            }
            """
            try keepalived.write(toFile: directory + "/keepalived.conf", atomically: true, encoding: .utf8)
            try conntrackd.write(toFile: directory + "/conntrackd.conf", atomically: true, encoding: .utf8)
        }

        /// `environment`: VAR=value settings for this node alone (the test-only switches);
        /// `arguments`: more of `tandem run`'s options.
        func start(demotion: Int, environment: [String] = [], arguments: [String] = []) throws -> Spawned {
            try namespace.start((environment.isEmpty ? [] : ["env"] + environment) + [Shell.tandem, "run", "--keepalived-config", directory + "/keepalived.conf",
                                 "--conntrackd-config", directory + "/conntrackd.conf", "--sync-demotion", String(demotion)] + arguments,
                                stdout: log + ".out", stderr: log)
        }

        var holdsVIP: Bool { namespace.run(["ip", "-4", "-o", "addr", "show"]).stdout.contains(" \(FailoverNodeTests.vip)/") }

        var trackedTestFlows: Int {
            namespace.run(["conntrack", "-L", "-p", "tcp", "--dport", "2222"]).stdout.split(separator: "\n").count
        }
    }

    static func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// A (priority 100) is master with 40 flows; B (priority 200, preempting) starts while
    /// the sync traffic is blocked, then the block is lifted.
    func freshPeer(demotion: Int) throws -> (bWhileBlocked: Bool, bAfter: Bool, bFlowsAtTakeover: Int, logB: String, jsonWhileBlocked: String) {
        let link = try VethLink(tag: "run", prefix: "tdr", addressA: "10.98.0.1/24", addressB: "10.98.0.2/24")
        defer { link.remove() }
        let base = NSTemporaryDirectory() + "tdt-run-\(getpid())-\(demotion)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let a = Node(namespace: link.a, interface: link.interfaceA, address: "10.98.0.1", peer: "10.98.0.2", directory: base + "/a")
        let b = Node(namespace: link.b, interface: link.interfaceB, address: "10.98.0.2", peer: "10.98.0.1", directory: base + "/b")
        try a.writeConfigs(priority: 100, state: "MASTER")
        try b.writeConfigs(priority: 200, state: "BACKUP")
        let nodeA = try a.start(demotion: demotion)
        defer { nodeA.stop() }
        #expect(Self.waitUntil(15) { a.holdsVIP }, "A never became master: \(Vectors.readText(a.log))")
        for port in 0..<40 {
            _ = link.a.run(["conntrack", "-I", "-p", "tcp", "-s", "10.97.0.1", "-d", "10.97.1.1", "--sport", String(20000 + port),
                            "--dport", "2222", "--state", "ESTABLISHED", "-t", "600", "-u", "SEEN_REPLY,ASSURED"])
        }
        #expect(a.trackedTestFlows == 40)
        let block = link.b.run(["nft", "add table ip tdtblock { chain i { type filter hook input priority 0; udp dport 3780 drop; }; chain o { type filter hook output priority 0; udp dport 3780 drop; }; }"])
        #expect(block.status == 0, "\(block.stderr)")
        let nodeB = try b.start(demotion: demotion)
        defer { nodeB.stop() }
        usleep(7_000_000)
        let whileBlocked = b.holdsVIP
        let status = link.b.tandem(["status", "--conntrackd-config", b.directory + "/conntrackd.conf"])
        let json = link.b.tandem(["status", "--json", "--conntrackd-config", b.directory + "/conntrackd.conf"]).stdout
        _ = link.b.run(["nft", "delete", "table", "ip", "tdtblock"])
        let after = Self.waitUntil(20) { b.holdsVIP }
        let flows = b.trackedTestFlows
        var logs = Vectors.readText(b.log) + "\n--- A:\n" + Vectors.readText(a.log)
        if !after {
            for n in [a, b] { logs += "\n--- stats \(n.address):\n" + n.namespace.tandem(["conntrackd", "-C", n.directory + "/conntrackd.conf", "-s"]).stdout }
        }
        return (whileBlocked, after, flows, logs + "\n--- status of B while blocked:\n" + status.stdout + status.stderr, json)
    }

    @Test func freshPeerWaitsForTheTableBeforeTakingOver() throws {
        let r = try freshPeer(demotion: 150)
        #expect(!r.bWhileBlocked, "B took over with an empty table: \(r.logB)")
        #expect(r.bAfter, "B never took over: \(r.logB)")
        #expect(r.bFlowsAtTakeover == 40, "\(r.logB)")
        #expect(r.logB.contains("demoted by 150"), "\(r.logB)")
        // `tandem status` shows why B waits.
        #expect(r.logB.contains("resync: WAITING for the peer's table"), "\(r.logB)")
        #expect(r.logB.contains("V: BACKUP on tdr"), "\(r.logB)")
        #expect(r.logB.contains("priority 50 (configured 200)"), "\(r.logB)")
        #expect(r.logB.contains("peer: SILENT"), "\(r.logB)")
        // The JSON status says the same, the priority taken apart.
        let json = try JSONValue.parse(r.jsonWhileBlocked)
        #expect(try JSONSchemaSubset.statusSchema().errors(in: json) == [], "\(r.jsonWhileBlocked)")
        let v = json["vrrp"]?["instances"]?[0]
        #expect(v?["state"] == .string("BACKUP") && v?["basePriority"] == .integer(200), "\(r.jsonWhileBlocked)")
        #expect(v?["syncDemotion"] == .integer(150) && v?["effectivePriority"] == .integer(50), "\(r.jsonWhileBlocked)")
        #expect(json["sync"]?["resync"]?["phase"] == .string("waiting"), "\(r.jsonWhileBlocked)")
        #expect(json["sync"]?["peer"]?["lastHeardMs"] == .null, "\(r.jsonWhileBlocked)")
        #expect(r.logB.contains("resync complete: 40 flows"), "\(r.logB)")
        // The unreachable peer was reported, and its return.
        #expect(r.logB.contains("no message from peer 10.98.0.1"), "\(r.logB)")
        #expect(r.logB.contains("peer 10.98.0.1 heard again"), "\(r.logB)")
        // The commit reached the kernel before the address was added.
        let commit = try #require(r.logB.range(of: "committed 40 flows"), "\(r.logB)")
        let added = try #require(r.logB.range(of: "addresses added"), "\(r.logB)")
        #expect(commit.lowerBound < added.lowerBound)
    }

    @Test func withoutDemotionTheFreshPeerTakesOverEmpty() throws {
        let r = try freshPeer(demotion: 0)
        #expect(r.bWhileBlocked, "control: B should have preempted at once: \(r.logB)")
        #expect(r.logB.contains("committed 0 flows"), "\(r.logB)")
    }

    @Test func brokenFileIsReportedBeforeTouchingTheNetwork() throws {
        let dir = NSTemporaryDirectory() + "tdt-runbad-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let goodSync = "Sync {\n    Mode FTFW {\n    }\n    UDP {\n        IPv4_address 10.0.0.1\n        IPv4_Destination_Address 10.0.0.2\n        Port 3780\n    }\n}\n"
        try "vrrp_instance V {\n    priority banana\n}\n".write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        try goodSync.write(toFile: dir + "/c.conf", atomically: true, encoding: .utf8)
        let r = Shell.run([Shell.tandem, "run", "--keepalived-config", dir + "/k.conf", "--conntrackd-config", dir + "/c.conf"])
        #expect(r.status != 0)
        #expect(r.stderr.contains(dir + "/k.conf:2:"), "\(r.stderr)")
        try "vrrp_instance V {\n    interface lo\n    virtual_router_id 9\n    priority 100\n}\n".write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        try goodSync.replacingOccurrences(of: "Mode FTFW {\n", with: "Mode FTFW {\n        CommitTimeout x\n").write(toFile: dir + "/c.conf", atomically: true, encoding: .utf8)
        let r2 = Shell.run([Shell.tandem, "run", "--keepalived-config", dir + "/k.conf", "--conntrackd-config", dir + "/c.conf"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains(dir + "/c.conf:3:"), "\(r2.stderr)")
    }

    /// A missing interface is reported and retried, never a crash: the node starts once
    /// the interface appears.
    @Test func missingInterfaceIsRetried() throws {
        let ns = try TestNamespace("runif")
        defer { ns.remove() }
        let node = Node(namespace: ns, interface: "tdr-late", address: "10.96.0.1", peer: "10.96.0.2",
                        directory: NSTemporaryDirectory() + "tdt-runif-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: node.directory) }
        try node.writeConfigs(priority: 100, state: "MASTER")
        // systemd hears READY=1 once the node has really started.
        let notifyPath = node.directory + "/notify"
        let notify = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(notify) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in notifyPath.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(notify, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        let p = try ns.start(["env", "NOTIFY_SOCKET=\(notifyPath)", Shell.tandem, "run", "--keepalived-config", node.directory + "/keepalived.conf",
                              "--conntrackd-config", node.directory + "/conntrackd.conf", "--sync-demotion", "0"],
                             stdout: node.log + ".out", stderr: node.log)
        defer { p.stop() }
        #expect(Self.waitUntil(5) { Vectors.readText(node.log).contains("cannot start yet") }, "\(Vectors.readText(node.log))")
        #expect(kill(p.pid, 0) == 0, "tandem run exited instead of retrying")
        for argv in [["ip", "link", "add", "tdr-late", "type", "veth", "peer", "name", "tdr-late-peer"], ["ip", "addr", "add", "10.96.0.1/24", "dev", "tdr-late"],
                     ["ip", "link", "set", "tdr-late-peer", "up"], ["ip", "link", "set", "tdr-late", "up"]] {
            #expect(ns.run(argv).status == 0)
        }
        #expect(Self.waitUntil(15) { node.holdsVIP }, "\(Vectors.readText(node.log))")
        #expect(Vectors.readText(node.log).contains("started after: "))
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(notify, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n > 0 && String(decoding: buffer[0..<max(0, n)], as: UTF8.self).hasPrefix("READY=1"))
    }
}
