import Foundation
import TestSupport
import Testing

/// Started without -p / -r and outside a net_namespace, keepalived 2.2.7 writes
/// /run/keepalived.pid and /run/vrrp.pid, refuses a second start while they name a live
/// process, and removes them at stop; Tandem does the same (its one pid in both). The only
/// test that leaves the pid files to their defaults: every other daemon is given its own.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedDefaultPidFileTests {
    static let files = ["/run/keepalived.pid", "/run/vrrp.pid"]

    /// A directory of the test's own holding k.conf, one instance on tkgv0.
    static func directoryWithConfig(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "tkg-\(tag)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "vrrp_instance V {\n  interface tkgv0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.143.1.1/24\n  }\n}\n"
            .write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        return dir
    }

    static func livePid(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0 else { return nil }
        return pid
    }

    @Test func withoutPidFlagsBothWriteKeepalivedsDefaults() throws {
        // A keepalived of the host's own would make this test and that daemon clash.
        try #require(Self.files.allSatisfy { Self.livePid($0) == nil }, "a daemon on this host already holds \(Self.files)")
        let dir = try Self.directoryWithConfig("pids")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ns = try KeepalivedStaticTrackingTests.namespace("pid")
        defer { ns.remove() }
        for kind in VRRPRouter.Kind.allCases {
            let program = kind == .tandem ? [Shell.tandem, "keepalived"] : ["/usr/sbin/keepalived", "-P", "-R"]
            let first = try ns.start(program + ["-n", "-l", "-D", "-f", dir + "/k.conf"], stdout: dir + "/\(kind).out", stderr: dir + "/\(kind).err")
            defer { first.stop() }
            let written = eventually(within: 15) { Self.files.allSatisfy { Self.livePid($0) != nil } }
            let log = { (try? String(contentsOfFile: dir + "/\(kind).err", encoding: .utf8)) ?? "" }
            #expect(written, "\(kind): \(log())")
            #expect(Self.livePid(Self.files[0]) == first.pid, "\(kind): the main pid file names the daemon")
            // A second start is refused while they name a live process.
            let second = ns.run(["timeout", "20"] + program + ["-n", "-l", "-D", "-f", dir + "/k.conf"])
            #expect((second.stdout + second.stderr).contains("daemon is already running"), "\(kind): \(second.stdout)\(second.stderr)")
            #expect(Self.livePid(Self.files[0]) == first.pid, "\(kind): the second start left the files alone")
            first.stop()
            #expect(eventually(within: 10) { Self.files.allSatisfy { !FileManager.default.fileExists(atPath: $0) } }, "\(kind): left behind")
        }
        // The control: with -p and -r given, /run gets neither file.
        let given = try ns.start([Shell.tandem, "keepalived", "-n", "-l", "-D", "-f", dir + "/k.conf", "-p", dir + "/k.pid", "-r", dir + "/v.pid"],
                                 stdout: dir + "/given.out", stderr: dir + "/given.err")
        defer { given.stop() }
        #expect(eventually(within: 15) { Self.livePid(dir + "/k.pid") == given.pid && Self.livePid(dir + "/v.pid") == given.pid })
        #expect(Self.files.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }

    /// A pid file that cannot be made: keepalived 2.2.7 logs `pidfile_write : Cannot open
    /// PATH pidfile` and stops (measured: exit 0 for its own file, a respawn loop for its
    /// VRRP child's); Tandem logs the same line and refuses the start with exit 1, leaving
    /// neither file behind. The control: the same files writable, it runs.
    @Test func aPidFileThatCannotBeMadeRefusesTheStart() throws {
        let dir = try Self.directoryWithConfig("pidw")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ns = try KeepalivedStaticTrackingTests.namespace("pidw")
        defer { ns.remove() }
        let missing = dir + "/no-such-directory/v.pid"
        let refused = ns.run(["timeout", "20", Shell.tandem, "keepalived", "-n", "-l", "-f", dir + "/k.conf", "-p", dir + "/k.pid", "-r", missing])
        #expect(refused.status == 1 && refused.stderr.contains("pidfile_write : Cannot open \(missing) pidfile"), "\(refused.status) \(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/k.pid"), "the main pid file was left behind")
        let runs = try ns.start([Shell.tandem, "keepalived", "-n", "-l", "-f", dir + "/k.conf", "-p", dir + "/k.pid", "-r", dir + "/v.pid"],
                                stdout: dir + "/out", stderr: dir + "/err")
        defer { runs.stop() }
        #expect(eventually(within: 15) { Self.livePid(dir + "/v.pid") == runs.pid })
    }
}
