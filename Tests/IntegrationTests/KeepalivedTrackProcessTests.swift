import Foundation
import TestSupport
import Testing

/// vrrp_track_process beside keepalived 2.2.7: router a (Tandem, then keepalived, from
/// the same file) tracks a process of a name no other process has, weight 50, against a
/// keepalived peer of priority 130. While it runs a has 150 and the address; when it
/// ends a has 100 and the peer takes over. keepalived 2.2.7 itself cannot be the router
/// under test: it follows processes through the kernel's proc connector, which refuses
/// listeners outside the initial network namespace ("Failed to set/clear process event
/// listen - errno 111"), and then never reaches a quorum — the last test records that, so
/// the day it works there this suite can compare the two.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedTrackProcessTests {
    static let c = VRRPTestConfig(version: 3, interval: 0.2)
    static let vip = VRRPTestConfig.vip(0)

    /// Who holds the address: after the start, then (`follow`) after the process is
    /// started, then after it ended — or, with `runningAtStart`, once with it running.
    func holders(_ kind: VRRPRouter.Kind, unweighted: Bool, runningAtStart: Bool) throws -> [String] {
        let pair = try SwitchedPair(tag: "tp\(kind.rawValue.prefix(1))\(runningAtStart ? 1 : 0)", prefix: "tk2")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tk2-trackproc-\(getpid())-\(kind)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A copy of sleep under a name of its own: its comm is that name.
        let name = "tk2s\(getpid() % 100000)\(kind.rawValue.prefix(1))"
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: dir + "/" + name)
        var sleeper: Spawned?
        defer { sleeper?.stop() }
        if runningAtStart { sleeper = try pair.a.start([dir + "/" + name, "60"], stdout: "/dev/null", stderr: "/dev/null") }
        let top = ["vrrp_track_process tp1 {", "  process \(name)"] + (unweighted ? [] : ["  weight 50"]) + ["}"]
        let a = try VRRPRouter(kind, in: pair.a, config: Self.c.text(pair, side: "a", instances: [
            .init(priority: unweighted ? 150 : 100, extra: ["track_process {", "    tp1", "  }"])], top: top))
        defer { a.remove() }
        let b = try VRRPRouter(.keepalived, in: pair.b, config: Self.c.text(pair, side: "b", instances: [.init(priority: 130)]))
        defer { b.remove() }
        func holder() -> String {
            let (x, y) = (pair.holds("a", Self.vip), pair.holds("b", Self.vip))
            return x && y ? "both" : x ? "a" : y ? "b" : "none"
        }
        func settle(_ expected: String) -> String {
            _ = eventually(within: 8) { holder() == expected }
            usleep(1_500_000)
            return holder()
        }
        if runningAtStart { return [settle("a")] }
        var seen = [settle("b")]
        sleeper = try pair.a.start([dir + "/" + name, "60"], stdout: "/dev/null", stderr: "/dev/null")
        seen.append(settle("a"))
        sleeper?.stop()
        seen.append(settle("b"))
        return seen
    }

    @Test(arguments: [false, true])
    func processQuorumMovesTheMaster(unweighted: Bool) throws {
        // Weighted: +50 while it runs. Unweighted: no process is a FAULT (priority 150 is
        // then out of the election).
        // Without the process (the control) b holds the address; the process started
        // moves it to a, its end back to b; running at start, a holds it from the start.
        let dynamic = try holders(.tandem, unweighted: unweighted, runningAtStart: false)
        #expect(dynamic == ["b", "a", "b"], "\(dynamic)")
        let atStart = try holders(.tandem, unweighted: unweighted, runningAtStart: true)
        #expect(atStart == ["a"], "\(atStart)")
    }

    /// Why keepalived is not beside Tandem here: in a namespace, even a process running
    /// from the start gives it no quorum (a stays out of the election). If this starts to
    /// fail, keepalived can track processes in a namespace and should be compared.
    @Test func keepalivedCannotTrackProcessesInATestNamespace() throws {
        let seen = try holders(.keepalived, unweighted: true, runningAtStart: true)
        #expect(seen == ["b"], "\(seen)")
    }
}
