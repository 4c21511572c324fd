#if canImport(Glibc)
import Glibc
#endif
import LinkIO
import Timekeeping

/// The UNIX stream socket conntrackd's CLI talks to (spec §6.1): a client sends one
/// native int, gets plain text back, and the connection closes.
public final class ControlServer {
    public let descriptor: Int32
    public let path: String

    public init(path: String) throws(SetupError) {
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
        for p in pending { close(p.descriptor) }
        close(descriptor)
        unlink(path)
    }

    /// A client that connected and has not yet sent its 4-byte request.
    struct PendingClient {
        var descriptor: Int32
        var request: ControlRequestAssembly
    }

    private var pending: [PendingClient] = []
    /// How long a client may take to send its request before it is dropped: a silent
    /// client must not hold up replication (conntrackd blocks in read(2) here).
    public static let requestTimeout = Duration.seconds(1)

    /// The listening socket and the clients whose request is still incomplete.
    public var descriptors: [Int32] { [descriptor] + pending.map(\.descriptor) }
    /// Clients accepted whose request is not complete yet (they time out unless polled).
    public var hasPendingClients: Bool { !pending.isEmpty }

    /// Accepts whoever is waiting and reads what the pending clients sent, without
    /// blocking. Complete requests come back with their client (the caller answers and
    /// closes it); failed ones are closed here and reported.
    public func poll(now: Instant) -> [Result<(client: Int32, code: Int32), ControlRequestError>] {
        while true {
            let c = Glibc.accept(descriptor, nil, nil)
            guard c >= 0 else { break }
            _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
            pending.append(PendingClient(descriptor: c, request: ControlRequestAssembly(acceptedAt: now)))
        }
        var out: [Result<(client: Int32, code: Int32), ControlRequestError>] = []
        var kept: [PendingClient] = []
        for var p in pending {
            var chunk = [UInt8](repeating: 0, count: p.request.missing)
            let n = read(p.descriptor, &chunk, chunk.count)
            switch p.request.take(count: n, of: chunk, error: n < 0 ? errno : 0, now: now) {
            case .complete(let code):
                out.append(.success((p.descriptor, code)))
            case .failed(let failure):
                close(p.descriptor)
                out.append(.failure(failure))
            case .waiting:
                kept.append(p)
            }
        }
        pending = kept
        return out
    }

    /// Writes the answer; a client that went away costs nothing (no SIGPIPE).
    public static func reply(_ client: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var pfd = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
                if Glibc.poll(&pfd, 1, 1000) <= 0 { break }
                continue
            }
            if n <= 0 { if errno == EINTR { continue }; break }
            offset += n
        }
    }

    /// Whether a daemon listens on `path` now: binding there would unlink its socket and
    /// leave it unreachable, so a second daemon must not. The probe connects and closes
    /// (that daemon counts one client that sent nothing).
    public static func isAnswered(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// The client side, as `conntrackd -e` etc. use it.
    public static func request(path: String, code: Int32) throws(SetupError) -> String {
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

/// Why a control client got no answer ("local read failed" in `conntrackd -s runtime`).
public enum ControlRequestError: Error, Hashable, CustomStringConvertible {
    /// Connected and closed without sending anything.
    case closedEarly
    /// Closed after fewer than the 4 bytes of a request.
    case short(Int)
    case readFailed(Int32)
    /// Sent fewer than 4 bytes within `ControlServer.requestTimeout`.
    case timedOut(Int)

    public var description: String {
        switch self {
        case .closedEarly: "client closed the connection before sending a request"
        case .short(let n): "short request: \(n) of 4 bytes"
        case .readFailed(let e): "read failed: \(String(cString: strerror(e)))"
        case .timedOut(let n): "request not complete after 1 s (\(n) of 4 bytes)"
        }
    }
}
