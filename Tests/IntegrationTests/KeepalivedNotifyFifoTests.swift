import Foundation
import TestSupport
import Testing

/// notify_fifo and notify_fifo_script: the same run under Tandem and keepalived 2.2.7
/// writes the same lines, in keepalived's format and event order, to a reader that
/// the daemon started with the FIFO's path.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedNotifyFifoTests {
    /// A fresh `dir` with a notify_fifo_script that appends what the FIFO carries to
    /// `out`; the caller removes `dir`.
    static func fifoReader(in dir: String) throws -> (script: String, out: String) {
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = dir + "/reader.sh", out = dir + "/events"
        try "#!/bin/sh\nexec cat \"$1\" >> \(out)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return (script, out)
    }

    func lines(_ kind: VRRPRouter.Kind) throws -> [String] {
        let pair = try SwitchedPair(tag: "nf\(kind.rawValue.prefix(1))")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tdt-fifo-\(getpid())-\(kind)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (script, out) = try Self.fifoReader(in: dir)
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let config = c.text(pair, side: "a", instances: [.init(priority: 100)], syncGroup: true,
                            top: ["global_defs {\n  notify_fifo \(dir)/fifo\n  notify_fifo_script \(script)\n}"])
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        #expect(eventually(within: 10) { Vectors.readText(out).contains("GROUP \"G1\" MASTER 0") }, "\(router.log)")
        router.stop()
        _ = eventually(within: 3) { Vectors.readText(out).contains("GROUP \"G1\" STOP 0") }
        var st = stat()
        #expect(stat(dir + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
        return Vectors.readText(out).split(separator: "\n").map(String.init)
    }

    @Test func tandemWritesTheSameEventsAsKeepalived() throws {
        let tandem = try lines(.tandem), keepalived = try lines(.keepalived)
        // keepalived may pass through FAULT while a fresh link settles; start-up order of
        // the first BACKUP lines differs (group first in keepalived); transitions do not.
        // keepalived ends its FIFO reader before writing the STOP lines (a reader of its own
        // sees them, spec §3.2); Tandem lets its reader have them first.
        let transitions = { (l: [String]) in l.filter { !$0.contains("FAULT") && !$0.contains("BACKUP") && !$0.contains("STOP") } }
        #expect(transitions(tandem) == transitions(keepalived), "tandem:\n\(tandem.joined(separator: "\n"))\nkeepalived:\n\(keepalived.joined(separator: "\n"))")
        #expect(Array(tandem.filter { !$0.contains("BACKUP") }) == ["INSTANCE \"VI_1\" MASTER 100", "GROUP \"G1\" MASTER 0",
                                                                   "INSTANCE \"VI_1\" STOP 100", "GROUP \"G1\" STOP 0"], "\(tandem)")
        #expect(Set(tandem.filter { $0.contains("BACKUP") }) == ["INSTANCE \"VI_1\" BACKUP 100", "GROUP \"G1\" BACKUP 0"], "\(tandem)")
    }
}
