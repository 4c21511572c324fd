import Foundation
import TestSupport
import Testing

/// Notify scripts get keepalived's arguments: the configured words (quotes grouping
/// them) and, for `notify`, TYPE NAME STATE PRIORITY. The same configuration run by
/// Tandem and by keepalived must produce the same invocations.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedNotifyTests {
    /// Every invocation's argv, one line each, from a run: start, become master, stop.
    func invocations(_ kind: VRRPRouter.Kind) throws -> [String] {
        let pair = try SwitchedPair(tag: "nt\(kind.rawValue.prefix(1))")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tdt-notify-\(getpid())-\(kind)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/notify.sh", out = dir + "/calls"
        // One write per call, so concurrent scripts cannot interleave within a line.
        try "#!/bin/sh\nprintf '%s\\n' \"$(printf '[%s]' \"$@\")\" >> \(out)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let config = c.text(pair, side: "a", instances: [.init(priority: 100, extra: [
            "notify \"\(script) inst\"", "notify_master \"\(script) 'master arg'\"", "notify_backup \"\(script) backup\"",
        ])], syncGroup: true, groupExtra: ["notify \(script)", "notify_master \"\(script) group-master\""])
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        _ = eventually(within: 10) { pair.holds("a", VRRPTestConfig.vip(0)) }
        usleep(500_000)
        router.stop()
        _ = eventually(within: 3) { Vectors.readText(out).contains("STOP][0]") }
        usleep(300_000)
        return Vectors.readText(out).split(separator: "\n").map(String.init)
    }

    @Test func tandemRunsTheSameNotificationsAsKeepalived() throws {
        let tandem = try invocations(.tandem), keepalived = try invocations(.keepalived)
        // keepalived may pass through FAULT while a fresh link settles; that is not argv.
        let comparable = { (calls: [String]) in calls.filter { !$0.contains("[FAULT]") }.sorted() }
        #expect(comparable(tandem) == comparable(keepalived), "tandem:\n\(tandem.joined(separator: "\n"))\nkeepalived:\n\(keepalived.joined(separator: "\n"))")
        #expect(tandem.contains("[inst][INSTANCE][VI_1][MASTER][100]") && tandem.contains("[master arg]") && tandem.contains("[GROUP][G1][STOP][0]"),
                "\(tandem)")
    }
}
