import Foundation
import TestSupport
import Testing

/// Each mode under a NOTIFY_SOCKET the test owns, as systemd runs Debian's Type=notify
/// units: READY=1 with the main pid once it serves, watchdog pings when WATCHDOG_USEC asks
/// for them, RELOADING=1 then READY=1 around SIGHUP (keepalived and run), STOPPING=1 on
/// SIGTERM. Controls: no ping for another process's watchdog, nothing at all with
/// conntrackd.conf's `Systemd off`.
@Suite(.serialized, .enabled(if: Shell.isRoot, "needs root (network namespaces)"))
struct SystemdNotifyTests {
    /// The socket systemd would listen on: a bound datagram socket the test reads.
    final class NotifySocket {
        let fd: Int32
        let path: String
        private(set) var messages: [String] = []

        init(path: String) throws {
            self.path = path
            unlink(path)
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw TestSetupError("socket: \(errno)") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else { close(fd); throw TestSetupError("bind \(path): \(errno)") }
        }

        deinit {
            close(fd)
            unlink(path)
        }

        /// Reads whatever has arrived.
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { break }
                messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }

        /// Waits up to `seconds` for a message satisfying `match` among those not yet consumed
        /// from `index` on; returns its index.
        func await(_ seconds: Double, from index: Int = 0, _ match: (String) -> Bool) -> Int? {
            let end = Date().addingTimeInterval(seconds)
            repeat {
                drain()
                if let i = messages.indices.dropFirst(index).first(where: { match(messages[$0]) }) { return i }
                usleep(20_000)
            } while Date() < end
            return nil
        }

        func count(_ line: String) -> Int { drain(); return messages.filter { $0.split(separator: "\n").contains(Substring(line)) }.count }
    }

    enum Mode: String, CaseIterable { case keepalived, conntrackd, run }

    static func writeConfigs(_ dir: String, systemd: Bool = true) throws {
        try """
        vrrp_instance V {
            state BACKUP
            interface lo
            virtual_router_id 51
            priority 100
            advert_int 1
        }
        """.write(toFile: dir + "/keepalived.conf", atomically: true, encoding: .utf8)
        try """
        Sync {
            Mode FTFW {
                DisableExternalCache Off
            }
            UDP {
                IPv4_address 127.0.0.1
                IPv4_Destination_Address 127.0.0.2
                Port 3780
                Interface lo
            }
        }
        General {
            LockFile \(dir)/lock
            UNIX {
                Path \(dir)/ctl
            }
            Systemd \(systemd ? "on" : "off")
        }
        """.write(toFile: dir + "/conntrackd.conf", atomically: true, encoding: .utf8)
    }

    static func argv(_ mode: Mode, _ dir: String) -> [String] {
        switch mode {
        case .keepalived: [Shell.tandem, "keepalived", "--dont-fork", "-l", "-G", "-f", dir + "/keepalived.conf", "-p", dir + "/k.pid", "-r", dir + "/kv.pid"]
        case .conntrackd: [Shell.tandem, "conntrackd", "-C", dir + "/conntrackd.conf"]
        case .run: [Shell.tandem, "run", "--keepalived-config", dir + "/keepalived.conf", "--conntrackd-config", dir + "/conntrackd.conf"]
        }
    }

    static func directory(_ tag: String) throws -> String {
        let dir = NSTemporaryDirectory() + "tdsd-\(tag)-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test(arguments: Mode.allCases)
    func eachModeTellsSystemdWhereItIs(mode: Mode) throws {
        let dir = try Self.directory(mode.rawValue)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeConfigs(dir)
        let notify = try NotifySocket(path: dir + "/notify")
        let ns = try TestNamespace("sd\(mode.rawValue.prefix(3))", prefix: "tdsd")
        defer { ns.remove() }
        let p = try ns.start(["env", "NOTIFY_SOCKET=\(notify.path)", "WATCHDOG_USEC=300000"] + Self.argv(mode, dir),
                             stdout: dir + "/out", stderr: dir + "/err")
        defer { p.stop() }
        let err = { Vectors.readText(dir + "/err") }
        let ready = try #require(notify.await(15) { $0.hasPrefix("READY=1\n") }, "no READY=1: \(err())")
        #expect(notify.messages[ready].contains("MAINPID=\(p.pid)"), "\(notify.messages[ready])")
        #expect(notify.messages[ready].contains("STATUS="))
        // Pings every 150 ms: a few within a second.
        #expect(notify.await(3, from: ready + 1) { $0 == "WATCHDOG=1" } != nil, "no watchdog ping: \(notify.messages)")
        usleep(700_000)
        #expect(notify.count("WATCHDOG=1") >= 3, "\(notify.messages)")
        if mode != .conntrackd {
            p.signal(SIGHUP)
            let reloading = notify.await(10, from: ready + 1) { $0.hasPrefix("RELOADING=1\n") && $0.contains("MONOTONIC_USEC=") }
            #expect(reloading != nil, "no RELOADING=1 after SIGHUP: \(notify.messages) \(err())")
            if let reloading {
                #expect(notify.await(10, from: reloading + 1) { $0.hasPrefix("READY=1\n") } != nil, "no READY=1 after the reload")
            }
        }
        p.terminate()
        #expect(p.wait() == 0, "\(err())")
        notify.drain()
        #expect(notify.messages.last == "STOPPING=1", "\(notify.messages)")
    }

    /// The controls: WATCHDOG_PID naming another process keeps the pings away (READY=1 still
    /// comes), and `Systemd off` keeps conntrackd mode silent while it serves.
    @Test func pingsOnlyForItsOwnWatchdogAndNothingWithSystemdOff() throws {
        let dir = try Self.directory("ctl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeConfigs(dir)
        let notify = try NotifySocket(path: dir + "/notify")
        let ns = try TestNamespace("sdctl", prefix: "tdsd")
        defer { ns.remove() }
        let other = try ns.start(["env", "NOTIFY_SOCKET=\(notify.path)", "WATCHDOG_USEC=300000", "WATCHDOG_PID=1"] + Self.argv(.keepalived, dir),
                                 stdout: dir + "/out", stderr: dir + "/err")
        #expect(notify.await(15) { $0.hasPrefix("READY=1\n") } != nil, "\(Vectors.readText(dir + "/err"))")
        usleep(1_000_000)
        #expect(notify.count("WATCHDOG=1") == 0, "\(notify.messages)")
        other.terminate()
        _ = other.wait()

        try Self.writeConfigs(dir, systemd: false)
        let silent = try NotifySocket(path: dir + "/notify-off")
        let p = try ns.start(["env", "NOTIFY_SOCKET=\(silent.path)", "WATCHDOG_USEC=300000"] + Self.argv(.conntrackd, dir),
                             stdout: dir + "/out", stderr: dir + "/err2")
        defer { p.stop() }
        #expect(FailoverNodeTests.waitUntil(15) { Shell.run([Shell.tandem, "conntrackd", "-C", dir + "/conntrackd.conf", "-s"]).status == 0 },
                "\(Vectors.readText(dir + "/err2"))")
        usleep(500_000)
        p.terminate()
        _ = p.wait()
        silent.drain()
        #expect(silent.messages.isEmpty, "\(silent.messages)")
    }

    /// keepalived logs to syslog (facility from -S) and to stderr only with -l. The test
    /// gives the daemon a /dev/log of its own: a private mount namespace whose /dev holds
    /// a link to the test's socket. Control: -G -l sends nothing to syslog and the same
    /// lines to stderr.
    @Test func keepalivedModeLogsToSyslogAsKeepalivedDoes() throws {
        let dir = try Self.directory("syslog")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeConfigs(dir)
        let ns = try TestNamespace("sdlog", prefix: "tdsd")
        defer { ns.remove() }
        func run(_ flags: [String], tag: String) throws -> (syslog: [String], stderr: String) {
            let log = try NotifySocket(path: "\(dir)/log-\(tag)")
            let old = "\(dir)/olddev-\(tag)"
            try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
            let daemon = ([Shell.tandem, "keepalived", "--dont-fork"] + flags
                          + ["-f", dir + "/keepalived.conf", "-p", "\(dir)/\(tag).pid", "-r", "\(dir)/\(tag)v.pid"]).joined(separator: " ")
            let script = "mount --rbind /dev \(old) && mount -t tmpfs tdsd /dev && "
                + "for n in null zero full random urandom; do ln -s \(old)/$n /dev/$n; done && ln -s \(log.path) /dev/log && exec \(daemon)"
            let p = try ns.start(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                                 stdout: "\(dir)/\(tag).out", stderr: "\(dir)/\(tag).err")
            defer { p.stop() }
            _ = FailoverNodeTests.waitUntil(10) {
                log.drain()
                return log.messages.contains { $0.contains("Entering BACKUP STATE") }
                    || Vectors.readText("\(dir)/\(tag).err").contains("Entering BACKUP STATE")
            }
            usleep(300_000)
            p.terminate()
            _ = p.wait()
            log.drain()
            return (log.messages, Vectors.readText("\(dir)/\(tag).err"))
        }
        let syslog = try run(["-S", "3"], tag: "s")
        // local3 (19 << 3) at notice (5): <157>, under keepalived's VRRP identity.
        #expect(syslog.syslog.contains { $0.hasPrefix("<157>") && $0.contains("Keepalived_vrrp[") && $0.contains("Entering BACKUP STATE") },
                "\(syslog.syslog) \(syslog.stderr)")
        #expect(!syslog.stderr.contains("Keepalived_vrrp["), "without -l nothing is logged to stderr: \(syslog.stderr)")
        let control = try run(["-G", "-l"], tag: "c")
        #expect(control.syslog.isEmpty, "\(control.syslog)")
        #expect(control.stderr.contains("Entering BACKUP STATE"), "\(control.stderr)")
    }
}
