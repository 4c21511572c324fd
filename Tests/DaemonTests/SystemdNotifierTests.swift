import Daemon
import Foundation
import Testing

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
}
