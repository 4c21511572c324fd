#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// Thin helpers over Glibc's IPv4 sockets for the lab's sessions.
enum InetSocket {
    static let tcpNoDelay: Int32 = 1
    /// TCP_USER_TIMEOUT (not exported by Glibc's Swift module).
    static let tcpUserTimeout: Int32 = 18
    static let ipprotoTCP = Int32(IPPROTO_TCP)

    static func address(_ ip: String, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, ip, &a.sin_addr)
        return a
    }

    static func withSockaddr<R>(_ a: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = a
        return withUnsafePointer(to: &copy) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    static func localPort(_ fd: Int32) -> UInt16 {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return rc == 0 ? UInt16(bigEndian: a.sin_port) : 0
    }

    static func pendingError(_ fd: Int32) -> Int32 {
        var e: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len)
        return e
    }

    /// Creates a socket inside `namespace` (setns on a short-lived thread) and lets `setup`
    /// bind or connect it there; the socket stays in that namespace for life.
    static func make(in namespace: String, domain: Int32 = AF_INET, type: Int32, proto: Int32 = 0,
                     what: String, _ setup: @escaping (Int32) -> Int32 = { _ in 0 }) throws(LabError) -> Int32 {
        let outcome: (fd: Int32, errno: Int32)
        do {
            outcome = try NetworkNamespace.run(named: namespace) { () -> (fd: Int32, errno: Int32) in
                let fd = socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto)
                guard fd >= 0 else { return (-1, errno) }
                let e = setup(fd)
                if e != 0 { close(fd); return (-1, e) }
                return (fd, 0)
            }
        } catch {
            throw .socket("\(what) in \(namespace): \(error)", errno: 0)
        }
        guard outcome.fd >= 0 else { throw .socket("\(what) in \(namespace)", errno: outcome.errno) }
        return outcome.fd
    }
}
