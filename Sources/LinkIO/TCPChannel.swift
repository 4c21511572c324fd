#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import IPAddressing
import Timekeeping

/// conntrackd's TCP dedicated link (spec §4.3): each node listens and also connects to
/// its peer; it writes only on the connection it made and reads only on the one it
/// accepted. A failed or partial write keeps the rest queued (at most ErrorQueueLength
/// buffers, the oldest unstarted one dropped and counted), sent before new data; the
/// client reconnects at most once a second. Which connection is read is
/// `TCPAcceptPolicy`'s (hardened: the peer's only, and a live one is not displaced).
public final class TCPChannel: SyncChannel {
    enum Client {
        case idle(retryAt: Instant)
        case connecting(Int32)
        case connected(Int32)
    }

    let listener: Int32
    var accepted: Int32?
    var client: Client = .idle(retryAt: .zero)
    /// conntrackd retries a failed connection at most once a second.
    static let reconnectDelay = Duration.seconds(1)
    let peer: SocketTarget
    let local: IPAddress
    public let interface: String?
    public let maximumPayload: Int
    let queueLimit: Int
    let sendBuffer: Int?
    /// Buffers waiting to be written; the first may be partly written (`written` bytes).
    var pending: [[UInt8]] = []
    var written = 0
    var freshConnection = false
    public private(set) var counters = ChannelCounters()
    public private(set) var droppedBuffers = 0
    let acceptPolicy: TCPAcceptPolicy
    /// When the accepted connection was last heard from.
    var acceptedHeard: Instant?
    /// Connections refused by `acceptPolicy`.
    public private(set) var foreignDatagrams = 0
    public private(set) var lastForeignSource: UInt32?
    public private(set) var secondConnections = 0

    public var kind: ConntrackdConfiguration.Channel.Kind { .tcp }

    public var descriptors: [Int32] {
        var fds = [listener]
        if let accepted { fds.append(accepted) }
        return fds
    }

    public init(local: IPAddress, peer: IPAddress, port: UInt16, interface: String?, sendBuffer: Int?, receiveBuffer: Int?,
                errorQueueLength: Int, hardened: Bool = true) throws(SetupError) {
        guard local.family == peer.family else { throw .configuration("the TCP link's local and peer addresses are of different families") }
        let scope = interface.map { if_nametoindex($0) } ?? 0
        let bound = SocketTarget(local, port: port, scope: scope)
        let fd = socket(bound.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        ChannelSocket.option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        ChannelSocket.option(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
        ChannelSocket.setBuffers(fd, send: nil, receive: receiveBuffer)
        if !ChannelSocket.bindToDevice(fd, interface) { let e = errno; close(fd); throw .system("SO_BINDTODEVICE \(interface ?? "")", e) }
        guard ChannelSocket.bind(fd, bound) == 0, listen(fd, 1) == 0 else {
            let e = errno; close(fd); throw .system("bind/listen \(local):\(port)", e)
        }
        listener = fd
        self.local = local
        self.peer = SocketTarget(peer, port: port, scope: scope)
        self.interface = interface
        self.sendBuffer = sendBuffer
        queueLimit = max(1, errorQueueLength)
        acceptPolicy = TCPAcceptPolicy(hardened: hardened)
        // IP and TCP headers: 20 + 20 bytes, or 40 + 20 over IPv6.
        maximumPayload = ChannelSocket.mtu(interface) - (bound.family == AF_INET6 ? 60 : 40)
    }

    deinit {
        close(listener)
        if let accepted { close(accepted) }
        switch client {
        case .connecting(let fd), .connected(let fd): close(fd)
        case .idle: break
        }
    }

    public func send(_ bytes: [UInt8]) {
        if pending.count >= queueLimit {
            // Never the partly written head: dropping it would cut a message in the stream.
            let victim = written > 0 && pending.count > 1 ? 1 : 0
            if written == 0 || victim == 1 {
                pending.remove(at: victim)
                droppedBuffers += 1
                counters.sendErrors += 1
                counters.droppedSendBufferFull += 1
            }
        }
        pending.append(bytes)
        drain(now: .now())
    }

    public func service(now: Instant) {
        switch client {
        case .connecting(let fd):
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&p, 1, 0) > 0 else { return }
            var error: Int32 = 0
            var length = socklen_t(4)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error == 0 {
                client = .connected(fd)
            } else {
                close(fd)
                client = .idle(retryAt: now + Self.reconnectDelay)
            }
        case .idle, .connected:
            break
        }
        drain(now: now)
    }

    /// Writes what is queued; (re)connects first when needed, at most once a second.
    func drain(now: Instant) {
        switch client {
        case .idle(let retryAt):
            guard now >= retryAt else { return }
            connect(now: now)
            return
        case .connecting:
            return
        case .connected(let fd):
            while let head = pending.first {
                let n = head.withUnsafeBytes { raw in
                    Glibc.send(fd, raw.baseAddress! + written, raw.count - written, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                }
                if n < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
                    // EPIPE, ECONNRESET…: a new connection, and the stream restarts at a
                    // message boundary (the partial head is sent again whole).
                    counters.sendErrors += 1
                    close(fd)
                    written = 0
                    client = .idle(retryAt: now + Self.reconnectDelay)
                    return
                }
                counters.bytesSent += n
                written += n
                if written == head.count {
                    pending.removeFirst()
                    written = 0
                    counters.packetsSent += 1
                }
            }
        }
    }

    func connect(now: Instant) {
        let fd = socket(peer.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { client = .idle(retryAt: now + Self.reconnectDelay); return }
        ChannelSocket.option(fd, SOL_SOCKET, SO_KEEPALIVE, 1)
        ChannelSocket.setBuffers(fd, send: sendBuffer, receive: nil)
        _ = ChannelSocket.bindToDevice(fd, interface)
        let rc = peer.withSocketAddress { Glibc.connect(fd, $0, $1) }
        if rc == 0 {
            client = .connected(fd)
            drain(now: now)
        } else if errno == EINPROGRESS {
            client = .connecting(fd)
        } else {
            close(fd)
            client = .idle(retryAt: now + Self.reconnectDelay)
        }
    }

    public func receiveAll() -> [ChannelInput] {
        // Only one accepted connection is kept; `acceptPolicy` says whether a new one
        // replaces it (the peer restarted) or is refused.
        let now = Instant.now()
        while true {
            var source = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            guard fd >= 0 else { break }
            switch acceptPolicy.decide(fromPeer: peer.isSameAddress(as: source), held: accepted == nil ? nil : acceptedHeard, now: now) {
            case .refuseNotFromPeer:
                close(fd)
                foreignDatagrams += 1
                lastForeignSource = SocketTarget.firstWord(of: source)
                continue
            case .refuseSecondConnection:
                close(fd)
                secondConnections += 1
                continue
            case .take, .replace:
                break
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            if let old = accepted { close(old) }
            accepted = fd
            acceptedHeard = now
            freshConnection = true
        }
        guard let fd = accepted else { return [] }
        var out: [ChannelInput] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 {
                acceptedHeard = now
                counters.bytesReceived += n
                counters.packetsReceived += 1
                out.append(.stream(Array(buffer[0..<n]), restarted: freshConnection))
                freshConnection = false
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { break }
            if n < 0 { counters.receiveErrors += 1 }
            close(fd)
            accepted = nil
            break
        }
        return out
    }
}
