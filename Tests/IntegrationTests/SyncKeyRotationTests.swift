import Foundation
import TestSupport
import Testing

/// Key rotation on a live `tandem run` pair by SIGHUP, as docs/sync-authentication.md
/// tells the operator to do it (issue #15): both nodes start on K1 with a next-key file
/// named but absent; B takes K2 as next, A moves to K2 with K1 as next, B moves to K2,
/// then K1 is dropped on both. Flows made on the master between the steps all reach the
/// backup and neither node refuses a single frame. The control: a sender put back on K1
/// once K1 is gone is refused (counted as an unknown key) and its flows do not arrive —
/// the same counters would have shown a step of the rotation that cut the peer off.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft"), "needs root, conntrack and nft"))
struct SyncKeyRotationTests {
    typealias Loss = ConntrackdLossTests

    static let k1 = "tsk-rotation-key-one-0123456789abcdef0123456789"
    static let k2 = "tsk-rotation-key-two-fedcba9876543210fedcba9876"

    /// Each node's two key files, as its command line names them.
    struct KeyFiles {
        let current: String
        let next: String
        var arguments: [String] { ["--sync-key", current, "--sync-key-next", next] }
    }

    /// Writes `key` to `path` owner-only, replacing the file in one rename (a node that
    /// reads it meanwhile sees the old key or the new one, never half of it).
    static func install(_ key: String, at path: String) throws {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TestSetupError("open \(temporary): \(errno)") }
        let bytes = Array((key + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else { throw TestSetupError("writing \(path) failed") }
    }

    /// `-s network` of `node`: its authentication counters.
    static func network(_ pair: RunPair, _ node: FailoverNodeTests.Node) -> String {
        node.namespace.run([Shell.tandem, "conntrackd", "-C", node.directory + "/conntrackd.conf", "-s", "network"]).stdout
    }

    static func refused(_ network: String) -> Int {
        SyncAuthenticationTests.refusalCounters(network).values.reduce(0, +)
    }

    /// Flows on the master, ports `ports`: what the backup's external cache must come to hold.
    static func makeFlows(_ pair: RunPair, _ ports: Range<Int>) {
        for port in ports {
            pair.link.a.run(["conntrack", "-I", "-p", "tcp", "-s", "10.97.0.1", "-d", "10.97.1.1", "--sport", String(23000 + port),
                             "--dport", "2222", "--state", "ESTABLISHED", "-t", "600", "-u", "SEEN_REPLY,ASSURED"])
        }
    }

    /// SIGHUP to `node` and the wait for its log to say the keys were applied (the
    /// `count`-th such line), so the next step never overtakes this one.
    static func reload(_ process: Spawned?, _ node: FailoverNodeTests.Node, count: Int) -> Bool {
        process?.signal(SIGHUP)
        return eventually(within: 10) {
            Vectors.readText(node.log).components(separatedBy: "sync keys reloaded").count - 1 >= count
        }
    }

    @Test func rotationBySIGHUPKeepsReplicatingAndTheOldKeyIsRefusedAfterwards() throws {
        let dir = NSTemporaryDirectory() + "tsk-keys-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keysA = KeyFiles(current: dir + "/a.key", next: dir + "/a.key.next")
        let keysB = KeyFiles(current: dir + "/b.key", next: dir + "/b.key.next")
        try Self.install(Self.k1, at: keysA.current)
        try Self.install(Self.k1, at: keysB.current)
        // Both start with the next-key file named and absent: no next key, as after a
        // rotation's last step.
        let pair = try RunPair(tag: "rot", prefix: "tsk", subnet: "10.91.0", arguments: (keysA.arguments, keysB.arguments),
                               namespacePrefix: "tsk")
        defer { pair.remove() }
        let (a, b) = (pair.a, pair.b)
        func logs() -> String {
            "--- A:\n\(Vectors.readText(a.log))\n--- B:\n\(Vectors.readText(b.log))\n--- A network:\n\(Self.network(pair, a))--- B network:\n\(Self.network(pair, b))"
        }
        func replicated(_ n: Int) -> Bool { eventually(within: 20) { pair.count("-e", on: b) == n } }

        Self.makeFlows(pair, 0..<10)
        #expect(replicated(10), "on K1: B has \(pair.count("-e", on: b))\n\(logs())")

        // 1. B accepts K2 too, still sends with K1.
        try Self.install(Self.k2, at: keysB.next)
        #expect(Self.reload(pair.nodeB, b, count: 1), "\(logs())")
        Self.makeFlows(pair, 10..<20)
        #expect(replicated(20), "after step 1: B has \(pair.count("-e", on: b))\n\(logs())")

        // 2. A sends with K2 (B accepts it as next) and accepts B's K1 as its next.
        try Self.install(Self.k2, at: keysA.current)
        try Self.install(Self.k1, at: keysA.next)
        #expect(Self.reload(pair.nodeA, a, count: 1), "\(logs())")
        Self.makeFlows(pair, 20..<30)
        #expect(replicated(30), "after step 2: B has \(pair.count("-e", on: b))\n\(logs())")

        // 3. B sends with K2 as well.
        try Self.install(Self.k2, at: keysB.current)
        try Self.install(Self.k1, at: keysB.next)
        #expect(Self.reload(pair.nodeB, b, count: 2), "\(logs())")
        Self.makeFlows(pair, 30..<40)
        #expect(replicated(40), "after step 3: B has \(pair.count("-e", on: b))\n\(logs())")

        // 4. K1 dropped on both: the next-key files removed.
        unlink(keysA.next)
        unlink(keysB.next)
        #expect(Self.reload(pair.nodeA, a, count: 2), "\(logs())")
        #expect(Self.reload(pair.nodeB, b, count: 3), "\(logs())")
        Self.makeFlows(pair, 40..<50)
        #expect(replicated(50), "after step 4: B has \(pair.count("-e", on: b))\n\(logs())")

        // Across the rotation: frames accepted on both sides, not one refused.
        let (networkA, networkB) = (Self.network(pair, a), Self.network(pair, b))
        #expect((Loss.tabbedCounter(networkA, "Accepted:") ?? 0) > 0 && (Loss.tabbedCounter(networkB, "Accepted:") ?? 0) > 0,
                "\(networkA)\(networkB)")
        #expect(Self.refused(networkA) == 0 && Self.refused(networkB) == 0, "refusals during the rotation\n\(logs())")
        #expect(Vectors.readText(b.log).contains("sync keys reloaded: sending with key id"), "\(logs())")

        // The control: A back on K1, which B no longer holds.
        try Self.install(Self.k1, at: keysA.current)
        #expect(Self.reload(pair.nodeA, a, count: 3), "\(logs())")
        Self.makeFlows(pair, 50..<60)
        var unknownKey = 0
        #expect(eventually(within: 15) {
            unknownKey = Loss.tabbedCounter(Self.network(pair, b), "Unknown key:") ?? 0
            return unknownKey > 0
        }, "B never refused A's K1 frames\n\(logs())")
        // A's resends of the ten flows are refused too, by now and after.
        #expect(eventually(within: 15) { (Loss.tabbedCounter(Self.network(pair, b), "Unknown key:") ?? 0) > unknownKey }, "\(logs())")
        #expect(pair.count("-e", on: b) == 50, "flows sent under the dropped key arrived: B has \(pair.count("-e", on: b))\n\(logs())")
    }
}
