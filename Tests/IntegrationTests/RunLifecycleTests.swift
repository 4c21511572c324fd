import Foundation
import TestSupport
import Testing

/// `tandem run` as an operator's tools treat it: keepalived's signals answered without
/// leaving MASTER, a node killed with SIGKILL restarting over its own stale lock, a second
/// instance refused with the holder named, and a stderr nobody reads costing nothing.
@Suite(.serialized, .enabled(if: Shell.isRoot, "needs root"))
struct RunLifecycleTests {
    /// One node, master of its VIP on a veth link whose peer never answers.
    func withMaster(_ tag: String, _ body: (FailoverNodeTests.Node, TestNamespace) throws -> Void) throws {
        let link = try VethLink(tag: tag, prefix: "tdl", addressA: "10.95.0.1/24", addressB: "10.95.0.2/24")
        defer { link.remove() }
        let node = FailoverNodeTests.Node(namespace: link.a, interface: link.interfaceA, address: "10.95.0.1", peer: "10.95.0.2",
                                          directory: NSTemporaryDirectory() + "tdt-life-\(tag)-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: node.directory) }
        try node.writeConfigs(priority: 100, state: "MASTER")
        try body(node, link.a)
    }

    func start(_ node: FailoverNodeTests.Node, log: String) throws -> Spawned {
        try node.namespace.start(["env", "TMPDIR=\(node.directory)", Shell.tandem, "run", "--keepalived-config", node.directory + "/keepalived.conf",
                                  "--conntrackd-config", node.directory + "/conntrackd.conf", "--sync-demotion", "0"],
                                 stdout: log + ".out", stderr: log)
    }

    func holdsVIP(_ ns: TestNamespace) -> Bool {
        ns.run(["ip", "-4", "-o", "addr", "show"]).stdout.contains(" \(FailoverNodeTests.vip)/")
    }

    @Test func keepalivedsSignalsLeaveTheMasterServing() throws {
        try withMaster("sig") { node, ns in
            let p = try start(node, log: node.log)
            defer { p.stop() }
            #expect(FailoverNodeTests.waitUntil(15) { holdsVIP(ns) }, "\(Vectors.readText(node.log))")
            for s in [SIGHUP, SIGUSR1, SIGUSR2] {
                p.signal(s)
                usleep(300_000)
            }
            usleep(1_500_000)
            let log = Vectors.readText(node.log)
            #expect(kill(p.pid, 0) == 0, "a signal ended tandem run: \(log)")
            #expect(holdsVIP(ns), "\(log)")
            #expect(log.contains("Reloading ..."), "\(log)")
            #expect(log.contains("Printing VRRP data"), "\(log)")
            #expect(log.contains("Printing VRRP stats"), "\(log)")
            #expect(FileManager.default.fileExists(atPath: node.directory + "/keepalived.data"))
            #expect(Vectors.readText(node.directory + "/keepalived.stats").contains("Advertisements"))
            // No transition once the signals came: MASTER entered once, never left.
            #expect(log.components(separatedBy: "Entering MASTER STATE").count == 2, "\(log)")
            let afterSignals = try #require(log.range(of: "Reloading ..."), "\(log)")
            #expect(!log[afterSignals.lowerBound...].contains("Entering"), "\(log)")
            // The control: SIGTERM does end it, and the VIP goes with it.
            p.terminate()
            #expect(p.wait(timeout: 10) == 0)
            #expect(!holdsVIP(ns))
        }
    }

    @Test func aKilledNodeRestartsOverItsStaleLockAndASecondIsRefused() throws {
        try withMaster("lock") { node, ns in
            let first = try start(node, log: node.log)
            #expect(FailoverNodeTests.waitUntil(15) { holdsVIP(ns) }, "\(Vectors.readText(node.log))")
            first.signal(SIGKILL)
            first.wait()
            #expect(Vectors.readText(node.directory + "/lock").contains("\(first.pid)"), "the lock should name the killed node")
            let second = try start(node, log: node.log + ".2")
            defer { second.stop() }
            #expect(FailoverNodeTests.waitUntil(15) { Vectors.readText(node.log + ".2").contains("Entering MASTER STATE") },
                    "\(Vectors.readText(node.log + ".2"))")
            #expect(Vectors.readText(node.log + ".2").contains("took over the stale lock file \(node.directory)/lock of pid \(first.pid)"))
            // The control: while that one lives, a third is refused and told who holds the lock.
            let third = ns.run([Shell.tandem, "run", "--keepalived-config", node.directory + "/keepalived.conf",
                                "--conntrackd-config", node.directory + "/conntrackd.conf"], timeout: 20)
            #expect(third.status == 1)
            #expect(third.stderr.contains("is held by pid \(second.pid)"), "\(third.stderr)")
            #expect(kill(second.pid, 0) == 0)
        }
    }

    /// A backup killed with SIGKILL loses its external cache with its memory. Restarted
    /// over its stale lock, it asks the master for the table again (the backup's `-n`),
    /// and when the master then stops it takes over with every flow in its kernel.
    @Test func aKilledBackupRestartsResyncsAndLosesNoFlow() throws {
        let link = try VethLink(tag: "kbk", prefix: "tdl", addressA: "10.95.0.1/24", addressB: "10.95.0.2/24")
        defer { link.remove() }
        let base = NSTemporaryDirectory() + "tdt-life-kbk-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let a = FailoverNodeTests.Node(namespace: link.a, interface: link.interfaceA, address: "10.95.0.1", peer: "10.95.0.2", directory: base + "/a")
        let b = FailoverNodeTests.Node(namespace: link.b, interface: link.interfaceB, address: "10.95.0.2", peer: "10.95.0.1", directory: base + "/b")
        try a.writeConfigs(priority: 200, state: "MASTER")
        try b.writeConfigs(priority: 100, state: "BACKUP")
        let nodeA = try start(a, log: a.log)
        defer { nodeA.stop() }
        try #require(FailoverNodeTests.waitUntil(15) { holdsVIP(link.a) }, "\(Vectors.readText(a.log))")
        let firstB = try start(b, log: b.log)
        usleep(2_000_000)
        let flows = 300
        try #require(ConntrackdLossTests.insert(flows, in: link.a).status == 0)
        let external = { link.b.run([Shell.tandem, "conntrackd", "-C", b.directory + "/conntrackd.conf", "-e"]).lines.count }
        try #require(FailoverNodeTests.waitUntil(20) { external() == flows }, "B's external cache: \(external())")
        firstB.signal(SIGKILL)
        firstB.wait()
        let secondB = try start(b, log: b.log + ".2")
        defer { secondB.stop() }
        let restarted = { Vectors.readText(b.log + ".2") }
        #expect(FailoverNodeTests.waitUntil(15) { restarted().contains("took over the stale lock file") }, "\(restarted())")
        #expect(FailoverNodeTests.waitUntil(20) { external() == flows }, "after the restart B's external cache holds \(external()): \(restarted())")
        nodeA.stop()
        #expect(FailoverNodeTests.waitUntil(10) { holdsVIP(link.b) }, "\(restarted())")
        let inKernel = { Int(link.b.run(["conntrack", "-C"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        #expect(FailoverNodeTests.waitUntil(5) { inKernel() >= flows }, "B's kernel holds \(inKernel()) of \(flows): \(restarted())")
        #expect(restarted().contains("committed \(flows) flows (0 failed)"), "\(restarted())")
    }

    @Test func aStderrNobodyReadsCostsNothing() throws {
        try withMaster("pipe") { node, ns in
            // The reader of tandem's stderr exits at once; every log line then meets EPIPE.
            let shell = try ns.start(["sh", "-c", "TMPDIR=\(node.directory) \(Shell.tandem) run --keepalived-config \(node.directory)/keepalived.conf "
                                      + "--conntrackd-config \(node.directory)/conntrackd.conf --sync-demotion 0 2>&1 | true"],
                                     stdout: node.log + ".out", stderr: node.log)
            defer { shell.stop() }
            #expect(FailoverNodeTests.waitUntil(15) { holdsVIP(ns) })
            let pid = try #require(Int32(Vectors.readText(node.directory + "/lock").filter(\.isNumber)))
            defer { kill(pid, SIGTERM) }
            // Log lines on demand: each dump request writes one.
            for _ in 0..<3 {
                kill(pid, SIGUSR1)
                usleep(300_000)
            }
            #expect(kill(pid, 0) == 0, "tandem run died writing to a closed pipe")
            #expect(holdsVIP(ns))
        }
    }

    /// keepalived's rule: a pid file naming a live process means one runs already. The
    /// control: the same pid file naming a process that is gone does not stop the start.
    @Test func aSecondKeepalivedIsRefused() throws {
        let dir = NSTemporaryDirectory() + "tdt-kpid-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "vrrp_instance V {\n    interface lo\n    virtual_router_id 9\n    priority 100\n}\n".write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        try "1\n".write(toFile: dir + "/k.pid", atomically: true, encoding: .utf8)
        let refused = Shell.run([Shell.tandem, "keepalived", "-n", "-l", "-f", dir + "/k.conf", "-p", dir + "/k.pid", "-r", dir + "/kv.pid"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("daemon is already running (pid 1 in \(dir)/k.pid)"), "\(refused.stderr)")
        #expect(Vectors.readText(dir + "/k.pid") == "1\n", "the live owner's pid file was touched")
        let ns = try TestNamespace("kpid")
        defer { ns.remove() }
        try "999999999\n".write(toFile: dir + "/k.pid", atomically: true, encoding: .utf8)
        let p = try ns.start([Shell.tandem, "keepalived", "-n", "-l", "-f", dir + "/k.conf", "-p", dir + "/k.pid", "-r", dir + "/kv.pid"],
                             stdout: dir + "/out", stderr: dir + "/err")
        defer { p.stop() }
        #expect(FailoverNodeTests.waitUntil(5) { Vectors.readText(dir + "/k.pid") == "\(p.pid)\n" }, "\(Vectors.readText(dir + "/err"))")
        p.terminate()
        p.wait()
        #expect(!FileManager.default.fileExists(atPath: dir + "/k.pid"), "its own pid file is removed on exit")
    }
}
