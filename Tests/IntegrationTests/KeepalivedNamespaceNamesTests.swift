import Foundation
import TestSupport
import Testing

/// What keepalived 2.2.7 names after its net_namespace, beside it: the VRRP process's
/// syslog ident `Keepalived_vrrp_NAME`, and pid files not given on the command line in
/// /run/keepalived/NAME (keepalived.pid, vrrp.pid), gone again after a stop. Each daemon
/// gets a /dev/log of the test's own (a private mount namespace whose /dev links to the
/// test's socket). The control: the same file without net_namespace, started where the
/// interface is, logs as plain `Keepalived_vrrp` and makes no such directory.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived") && Shell.which("unshare"), "needs root, keepalived and unshare"))
struct KeepalivedNamespaceNamesTests {
    static func config(namespace: String?) -> String {
        (namespace.map { "net_namespace \($0)\n" } ?? "")
            + "vrrp_instance VI_1 {\n  interface tkgv0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n"
            + "  virtual_ipaddress {\n    10.143.1.1/24\n  }\n}\n"
    }

    struct Seen {
        var syslog: [String]
        var pidFiles: [String: String]
        var directoryAfterStop: Bool
        var output: String
    }

    /// Starts `kind` from `launcher` (in the namespace itself for the control), waits for
    /// its VIP in `target`, reads its pid directory, stops it.
    func run(_ kind: VRRPRouter.Kind, named: Bool, tag: String) throws -> Seen {
        let target = try TestNamespace("\(tag)t", prefix: "tkg")
        defer { target.remove() }
        let launcher = try TestNamespace("\(tag)l", prefix: "tkg")
        defer { launcher.remove() }
        let directory = "/run/keepalived/\(target.name)"
        // A daemon that had to be killed leaves its files: the directory goes anyway.
        defer {
            for name in ["keepalived.pid", "vrrp.pid"] { unlink(directory + "/" + name) }
            rmdir(directory)
        }
        for command in ["ip link add tkgv0 type veth peer name tkgv1", "ip link set tkgv1 up", "ip link set tkgv0 up",
                        "ip addr add 10.143.0.1/24 dev tkgv0"] {
            #expect(target.run(["sh", "-c", command]).status == 0, "\(command)")
        }
        let dir = NSTemporaryDirectory() + "tkg-names-\(tag)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/olddev", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.config(namespace: named ? target.name : nil).write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let log = try SystemdNotifyTests.NotifySocket(path: dir + "/log")
        // The control is given its pid files, so it writes nothing into the host's /run.
        let pids = named ? [] : ["-p", dir + "/k.pid", "-r", dir + "/v.pid"]
        let program = kind == .tandem
            ? [Shell.tandem, "keepalived", "--control-socket", dir + "/ctl", "-n", "-D", "-f", dir + "/k.conf"] + pids
            : ["/usr/sbin/keepalived", "-n", "-D", "-P", "-R", "-f", dir + "/k.conf"] + pids
        let script = "mount --rbind /dev \(dir)/olddev && mount -t tmpfs tkg /dev && "
            + "for n in null zero full random urandom; do ln -s \(dir)/olddev/$n /dev/$n; done && ln -s \(log.path) /dev/log && exec "
            + program.joined(separator: " ")
        let home = named ? launcher : target
        let p = try home.start(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], stdout: dir + "/out", stderr: dir + "/err")
        defer { p.stop() }
        // Read as it comes: a full socket queue would hold the daemon's next log line up.
        let up = eventually(within: 15) {
            log.drain()
            return !target.run(["ip", "-4", "-o", "addr", "show", "to", "10.143.1.1"]).stdout.isEmpty
        }
        var files: [String: String] = [:]
        for name in ["keepalived.pid", "vrrp.pid"] {
            if let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8) {
                files[name] = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        // Its last lines are read while it stops: it is gone once its main pid file is.
        p.terminate()
        let mainPidFile = named ? directory + "/keepalived.pid" : dir + "/k.pid"
        _ = eventually(within: 5) {
            log.drain()
            return !FileManager.default.fileExists(atPath: mainPidFile)
        }
        p.stop()
        log.drain()
        let output = Vectors.readText(dir + "/out") + Vectors.readText(dir + "/err")
        #expect(up, "\(kind): \(output)\n\(log.messages)")
        return Seen(syslog: log.messages, pidFiles: files, directoryAfterStop: FileManager.default.fileExists(atPath: directory), output: output)
    }

    @Test func namesAsKeepalivedNamesThemInANamespace() throws {
        for kind in VRRPRouter.Kind.allCases {
            let seen = try run(kind, named: true, tag: "n\(kind.rawValue.prefix(1))")
            let ident = seen.syslog.filter { $0.contains("Entering MASTER STATE") }
            #expect(!ident.isEmpty && ident.allSatisfy { $0.contains(": ") && $0.range(of: #"Keepalived_vrrp_tkg-n[tk]t-\d+-\d+\["#, options: .regularExpression) != nil },
                    "\(kind): \(seen.syslog)\n\(seen.output)")
            // keepalived's parent says so under its own ident first; Tandem says it too.
            let change = seen.syslog.filter { $0.contains("Changing syslog ident") }
            #expect(change.count == 1 && change.allSatisfy {
                $0.range(of: #"Keepalived\[\d+\]: Changing syslog ident to Keepalived_tkg-n[tk]t-\d+-\d+$"#, options: .regularExpression) != nil
            }, "\(kind): \(seen.syslog)")
            // Both files, each naming a process that was running (keepalived: its parent
            // and its VRRP child; Tandem: itself, one process).
            #expect(Set(seen.pidFiles.keys) == ["keepalived.pid", "vrrp.pid"], "\(kind): \(seen.pidFiles)")
            #expect(seen.pidFiles.values.allSatisfy { Int32($0) != nil }, "\(kind): \(seen.pidFiles)")
            #expect(!seen.directoryAfterStop, "\(kind): /run/keepalived/NAME left behind")
            // The control: no namespace, no name in the ident and no directory.
            let control = try run(kind, named: false, tag: "c\(kind.rawValue.prefix(1))")
            let lines = control.syslog.filter { $0.contains("Entering MASTER STATE") }
            #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("Keepalived_vrrp[") }, "\(kind): \(control.syslog)\n\(control.output)")
            #expect(control.pidFiles.isEmpty)
            #expect(!control.syslog.contains { $0.contains("Changing syslog ident") }, "\(kind): \(control.syslog)")
        }
    }
}
