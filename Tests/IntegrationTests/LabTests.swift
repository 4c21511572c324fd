import Foundation
import TestSupport
import Testing

/// `tandem lab` end to end: the seed's topology in namespaces, sessions through the VIPs,
/// failover and failback with each daemon stack, and the control without replication.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("keepalived") && Shell.which("iptables-restore"),
                             "needs root, conntrackd, keepalived and iptables"))
struct LabTests {
    /// A prefix no other test or lab uses; CI fails on leftover `tdt-*` namespaces.
    static func prefix(_ tag: String) -> String { "tdt-lab\(getpid() % 100_000)\(tag)-" }

    /// Runs `tandem lab ARGS --prefix P` with its output in a file: the daemons it starts
    /// must not hold a pipe of the test runner.
    static func lab(_ args: [String], prefix: String, timeout: Double = 150) -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "tdt-lab-\(getpid())-\(prefix)\(args.first ?? "").log"
        defer {
            try? FileManager.default.removeItem(atPath: log)
            try? FileManager.default.removeItem(atPath: log + ".err")
        }
        guard let p = try? Shell.start([Shell.tandem, "lab"] + args + ["--prefix", prefix], stdout: log, stderr: log + ".err") else {
            return (-1, "cannot start tandem lab")
        }
        let status = p.wait(timeout: timeout)
        return (status, Vectors.readText(log) + Vectors.readText(log + ".err"))
    }

    static func down(_ prefix: String) {
        let r = lab(["down"], prefix: prefix, timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        let left = Shell.run(["ip", "netns", "list"]).stdout.split(separator: "\n").filter { $0.hasPrefix(prefix) }
        #expect(left.isEmpty, "namespaces left over: \(left)")
        #expect(!FileManager.default.fileExists(atPath: "/run/tandem-lab/" + prefix))
    }

    /// up, then failover; the caller's defer runs down.
    static func failover(_ prefix: String, up: [String], failover: [String]) -> (status: Int32, output: String) {
        let u = lab(["up"] + up, prefix: prefix)
        guard u.status == 0 else { return (u.status, "up failed:\n" + u.output) }
        return lab(["failover"] + failover, prefix: prefix)
    }

    static func expectSurvived(_ r: (status: Int32, output: String), failback: Bool = false, sessions: Int = 6) {
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("verdict: \(sessions)/\(sessions) sessions survived"), "\(r.output)")
        #expect(r.output.contains("failover: \(sessions)/\(sessions) sessions survived"), "\(r.output)")
        if failback { #expect(r.output.contains("failback: \(sessions)/\(sessions) sessions survived"), "\(r.output)") }
        #expect(!r.output.contains("TCP reset") && !r.output.contains("broke: rst"), "\(r.output)")
    }

    /// The default stack, failed over and back: fw1 returns as after a reboot and takes
    /// over again once it has fw2's table.
    @Test func tandemRunSurvivesStopAndFailback() {
        let p = Self.prefix("a")
        defer { Self.down(p) }
        let r = Self.failover(p, up: [], failover: ["--how", "stop", "--failback", "--post", "5"])
        Self.expectSurvived(r, failback: true)
        #expect(r.output.contains("commit done on fw1"), "\(r.output)")
    }

    /// Tandem as separate conntrackd and keepalived with the seed's notify script. The
    /// script commits only after keepalived added the VIPs: a server packet reaching fw2 in
    /// those milliseconds finds no state and fw2's own stack resets the session (the seed's
    /// race, which `tandem run` closes by committing first). Under a loaded CI the window
    /// (script start plus the commit, 20-50 ms) is often as long as the sessions' 30-50 ms
    /// between packets. A run whose every broken session crossed fw2 inside that window is
    /// the race, told apart by the lab ("seed race:"), and is tried again up to three times;
    /// if all three race it is a known issue, shown as such. Any break the race does not
    /// explain, or a missing commit, fails the test.
    @Test func tandemSplitSurvivesStop() {
        var outputs: [String] = []
        for attempt in 1...3 {
            let p = Self.prefix("s\(attempt)")
            let r = Self.failover(p, up: ["--stack", "tandem-split"], failover: ["--how", "stop"])
            Self.down(p)
            outputs.append(r.output)
            #expect(r.output.contains("commit done on fw2: conntrackd -c returned rc=0"), "\(r.output)")
            if r.status == 0 {
                #expect(r.output.contains("verdict: 6/6 sessions survived"), "\(r.output)")
                return
            }
            let race = r.output.contains("seed race: fw2's commit finished") && !r.output.contains("not explained by the race")
            guard race else {
                Issue.record("tandem-split broke sessions the seed's race does not explain: \(r.output)")
                return
            }
        }
        withKnownIssue("the seed's VIPs-before-commit race caught sessions in all three attempts") {
            Issue.record("\(outputs.joined(separator: "\n---\n"))")
        }
    }

    /// The control: the default stack with the sync link down; the same failover breaks
    /// the TCP sessions and the UDP stream (ICMP recovers by itself), so the verdict can fail.
    @Test func withoutReplicationTheSessionsBreak() {
        let p = Self.prefix("b")
        defer { Self.down(p) }
        let r = Self.failover(p, up: ["--no-sync"], failover: ["--how", "stop", "--post", "5"])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("verdict: 5/6 sessions broke"), "\(r.output)")
        #expect(r.output.contains("udp-stream (silent)"), "\(r.output)")
        #expect(r.output.contains("replication off"), "\(r.output)")
    }

    @Test func tandemRunSurvivesAKilledMaster() {
        let p = Self.prefix("c")
        defer { Self.down(p) }
        Self.expectSurvived(Self.failover(p, up: [], failover: ["--how", "kill"]))
    }

    @Test func tandemRunSurvivesAPulledCable() {
        let p = Self.prefix("d")
        defer { Self.down(p) }
        Self.expectSurvived(Self.failover(p, up: [], failover: ["--how", "link"]))
    }

    /// Debian's daemons on fw1, `tandem run` on fw2: the takeover lands on Tandem.
    @Test func mixedPairSurvives() {
        let p = Self.prefix("e")
        defer { Self.down(p) }
        Self.expectSurvived(Self.failover(p, up: ["--stack", "mixed"], failover: ["--how", "stop"]))
    }

    /// `--plot` on a real run: the picture parses, has a lane per session, each session's
    /// gap shaded, and the four milestones as markers in the order they happened.
    @Test func failoverDrawsAPicture() throws {
        let p = Self.prefix("p")
        defer { Self.down(p) }
        let file = NSTemporaryDirectory() + "tdt-lab-\(getpid())-picture.svg"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = Self.failover(p, up: [], failover: ["--how", "stop", "--post", "3", "--plot", file])
        Self.expectSurvived(r)
        #expect(r.output.contains("picture: \(file)"), "\(r.output)")
        let svg = try XMLTree.parse(try String(contentsOfFile: file, encoding: .utf8))
        let sessions = ["ssh-1", "ssh-2", "ssh-3", "ssh-4", "udp-stream", "ping"]
        #expect(svg.all("g", class: "lane").map { $0["data-session"] } == sessions)
        #expect(svg.all("rect", class: "gap").map { $0["data-session"] } == sessions)
        for lane in svg.all("g", class: "lane") {
            #expect((lane.all("path", class: "ticks").first?.number("data-count") ?? 0) > 20, "\(lane["data-session"] ?? "?") drew too few messages")
        }
        let markers = svg.all("g", class: "marker")
        let order = markers.compactMap { $0["data-milestone"] }
        #expect(Set(order) == ["action", "vipMoved", "commitDone", "firstPacket"] && order.count == 4, "\(order)")
        #expect(order.first == "action")
        #expect((order.firstIndex(of: "vipMoved") ?? 9) < (order.firstIndex(of: "firstPacket") ?? -1), "\(order)")
        let xs = markers.compactMap { $0.all("line").first?.number("x1") }
        #expect(xs == xs.sorted(), "\(xs)")
        #expect(svg.all("text", class: "verdict").first?.text.hasPrefix("verdict: 6/6 sessions survived") == true)
    }

    @Test func refusesWithoutRootOrWithoutALab() throws {
        let p = Self.prefix("f")
        defer { Self.down(p) }
        let asNobody = Shell.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                                  Shell.tandem, "lab", "up", "--prefix", p])
        #expect(asNobody.status == 1, "\(asNobody)")
        #expect(asNobody.stderr.contains("tandem lab needs root: it creates network namespaces"), "\(asNobody)")
        let noLab = Self.lab(["failover"], prefix: p)
        #expect(noLab.status == 1, "\(noLab.output)")
        #expect(noLab.output.contains("no lab is up for prefix '\(p)': run `tandem lab up` first"), "\(noLab.output)")
        let bad = Shell.run([Shell.tandem, "lab", "up", "--stack", "nope", "--prefix", p])
        #expect(bad.status == 2 && bad.stderr.contains("--stack nope"), "\(bad)")
    }
}
