import Daemon
import Foundation
import Testing
import Timekeeping

/// sd_notify's datagram reaches the socket systemd names, path or abstract.
struct SystemdNotifierTests {
    static func listen(_ path: String, abstract: Bool) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i + (abstract ? 1 : 0)] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func receive(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    @Test func readyReachesAPathSocket() {
        let path = NSTemporaryDirectory() + "tdt-notify-\(getpid())"
        unlink(path)
        let fd = Self.listen(path, abstract: false)
        defer { close(fd); unlink(path) }
        #expect(SystemdNotifier(enabled: true, environment: path).notify("READY=1"))
        #expect(Self.receive(fd) == "READY=1")
    }

    @Test func readyReachesAnAbstractSocket() {
        let name = "tdt-notify-abstract-\(getpid())"
        let fd = Self.listen(name, abstract: true)
        defer { close(fd) }
        #expect(SystemdNotifier(enabled: true, environment: "@" + name).notify("READY=1"))
        #expect(Self.receive(fd) == "READY=1")
    }

    @Test func offOrUnsetSendsNothing() {
        #expect(!SystemdNotifier(enabled: false, environment: "/run/x").isActive)
        #expect(!SystemdNotifier(enabled: true, environment: nil).isActive)
        #expect(!SystemdNotifier(enabled: true, environment: nil).notify("READY=1"))
    }

    /// WatchdogSec=: pings at half the period, from the first turn on; nothing when the
    /// unit asks for none, or when WATCHDOG_PID names another process.
    @Test func theWatchdogPingsAtHalfItsPeriod() {
        let t0 = Instant(nanoseconds: 1_000_000_000)
        var w = SystemdWatchdog(usec: "2000000", pid: nil, ownPid: 42, now: t0)
        #expect(w.interval == .seconds(1))
        let pings = [t0, t0 + .milliseconds(999), t0 + .seconds(1), t0 + .milliseconds(1500)].map { w.due(now: $0) }
        #expect(pings == [true, false, true, false])
        var own = SystemdWatchdog(usec: "2000000", pid: "42", ownPid: 42, now: t0)
        let ownPing = own.due(now: t0)
        #expect(ownPing)
        var other = SystemdWatchdog(usec: "2000000", pid: "1", ownPid: 42, now: t0)
        let otherPing = other.due(now: t0 + .seconds(5))
        #expect(other.interval == nil && !otherPing)
        for usec in [nil, "", "0", "x"] {
            var none = SystemdWatchdog(usec: usec, pid: nil, ownPid: 42, now: t0)
            let ping = none.due(now: t0 + .seconds(5))
            #expect(!ping, "\(usec ?? "nil")")
        }
    }
}
