#if canImport(Glibc)
import Glibc
#endif

/// The UNIX stream socket conntrackd's CLI talks to (spec §6.1): a client sends one
/// native int, gets plain text back, and the connection closes.
public final class ControlServer {
    public let descriptor: Int32
    public let path: String

    public init(path: String) throws(DaemonError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        unlink(path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { close(fd); throw .configuration("UNIX path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let old = umask(0o177)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        guard rc == 0, listen(fd, 100) == 0 else { let e = errno; close(fd); throw .system("bind \(path)", e) }
        descriptor = fd
        self.path = path
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Accepts one waiting client and reads its request code (nil when none is waiting).
    public func accept() -> (client: Int32, code: Int32)? {
        let c = Glibc.accept(descriptor, nil, nil)
        guard c >= 0 else { return nil }
        var code: Int32 = 0
        var pfd = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, 1000)
        let n = read(c, &code, 4)
        if n != 4 { close(c); return nil }
        return (c, code)
    }

    public static func reply(_ client: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(client, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; break }
            offset += n
        }
    }

    /// The client side, as `conntrackd -e` etc. use it.
    public static func request(path: String, code: Int32) throws(DaemonError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw .configuration("can't connect: is conntrackd running? appropriate permissions?") }
        var c = code
        _ = write(fd, &c, 4)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
