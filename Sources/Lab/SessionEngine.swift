#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Both ends of every lab session, in the lab process itself: sockets are created inside
/// the client and server namespaces, then one poll loop on a dedicated thread drives them
/// all and timestamps every message.
final class SessionEngine: @unchecked Sendable {
    struct Options {
        var tcpSessions: Int
        var interval: Double = 0.05
        var push: Double
    }

    private let stopFlag = Atomic<Bool>(false)
    private let ready = Atomic<Int>(0)
    private let loop: SessionLoop
    private var thread: LabThread?

    var sessionCount: Int { loop.records.count }
    var readySessions: Int { ready.load(ordering: .acquiring) }

    init(names: LabNames, options: Options) throws(LabError) {
        loop = try SessionLoop(names: names, options: options)
    }

    /// TCP client ports and the UDP client's port, known once connect() has been called.
    var clientPorts: [(kind: SessionKind, port: UInt16)] {
        loop.records.filter { $0.kind != .icmp }.map { ($0.kind, $0.localPort) }
    }

    func start() throws(LabError) {
        thread = try LabThread { [self] in
            loop.run(stop: { stopFlag.load(ordering: .relaxed) }, onReady: { ready.add(1, ordering: .releasing) })
        }
    }

    /// Stops the loop, closes every socket and hands over what was observed.
    func stop() -> [SessionRecord] {
        stopFlag.store(true, ordering: .relaxed)
        thread?.join()
        thread = nil
        loop.closeAll()
        return loop.records
    }

    deinit {
        if thread != nil { _ = stop() }
    }
}

/// The loop's state; touched only by the loop thread between `start` and `stop`.
private final class SessionLoop {
    private struct TCPClient {
        let session: Int
        var fd: Int32
        var connected = false
        var input: [UInt8] = []
        var output: [UInt8] = []
        var nextLine = 0.0
        var sequence = 0
    }

    private struct ServerConnection {
        var fd: Int32
        var session: Int?
        var input: [UInt8] = []
        var output: [UInt8] = []
        var nextPush: Double
        var pushes = 0
    }

    private enum Owner { case listener, client(Int), server(Int), streamServer, streamClient, pinger }

    let options: SessionEngine.Options
    var records: [SessionRecord] = []
    /// When the turn before this one returned from poll: what this turn notices happened
    /// since then (a failure's earliest possible time).
    private var previousTurn = 0.0
    private var clients: [TCPClient] = []
    private var servers: [ServerConnection] = []
    private let listener: Int32
    private let streamServer: Int32
    private let streamClient: Int32
    private let pinger: Int32
    private let streamSession: Int
    private let pingSession: Int
    private var subscriber: sockaddr_in?
    private var nextStream = 0.0
    private var nextSubscribe = 0.0
    private var subscribes = 0
    private var nextPing = 0.0
    private var closed = false
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(names: LabNames, options: SessionEngine.Options) throws(LabError) {
        self.options = options
        let stream = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let datagram = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let server = InetSocket.address(SeedAddressing.server, SeedAddressing.sshPort)
        var made: [Int32] = []
        do {
            let l = try InetSocket.make(in: names.server, type: stream, what: "SSH-like listener") { fd in
                InetSocket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
                if InetSocket.withSockaddr(server, { bind(fd, $0, $1) }) != 0 { return errno }
                return listen(fd, 64) == 0 ? 0 : errno
            }
            made.append(l)
            let us = try InetSocket.make(in: names.server, type: datagram, what: "UDP stream server") { fd in
                let a = InetSocket.address("0.0.0.0", SeedAddressing.streamPort)
                return InetSocket.withSockaddr(a, { bind(fd, $0, $1) }) == 0 ? 0 : errno
            }
            made.append(us)
            let uc = try InetSocket.make(in: names.client, type: datagram, what: "UDP stream client") { fd in
                InetSocket.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
                let a = InetSocket.address(SeedAddressing.client, SeedAddressing.streamClientPort)
                return InetSocket.withSockaddr(a, { bind(fd, $0, $1) }) == 0 ? 0 : errno
            }
            made.append(uc)
            let p = try InetSocket.make(in: names.client, type: datagram, proto: Int32(IPPROTO_ICMP), what: "ping socket")
            made.append(p)
            for i in 0..<options.tcpSessions {
                let fd = try InetSocket.make(in: names.client, type: stream, what: "SSH-like client") { fd in
                    InetSocket.setOption(fd, InetSocket.ipprotoTCP, InetSocket.tcpNoDelay, 1)
                    InetSocket.setOption(fd, InetSocket.ipprotoTCP, InetSocket.tcpUserTimeout, 15000)
                    let rc = InetSocket.withSockaddr(server, { connect(fd, $0, $1) })
                    return rc == 0 || errno == EINPROGRESS ? 0 : errno
                }
                made.append(fd)
                var record = SessionRecord(name: "ssh-\(i + 1)", kind: .tcp)
                record.localPort = InetSocket.localPort(fd)
                records.append(record)
                clients.append(TCPClient(session: i, fd: fd))
            }
            listener = l
            streamServer = us
            streamClient = uc
            pinger = p
        } catch {
            for fd in made { close(fd) }
            throw error
        }
        streamSession = records.count
        var udp = SessionRecord(name: "udp-stream", kind: .udp)
        udp.localPort = SeedAddressing.streamClientPort
        records.append(udp)
        pingSession = records.count
        records.append(SessionRecord(name: "ping", kind: .icmp))
    }

    func run(stop: () -> Bool, onReady: () -> Void) {
        var wasReady = Array(repeating: false, count: records.count)
        var fds: [pollfd] = []
        var owners: [Owner] = []
        while !stop() {
            let now = WallClock.now()
            fireTimers(now)
            fds.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            func watch(_ fd: Int32, _ owner: Owner, write: Bool = false) {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN) | (write ? Int16(POLLOUT) : 0), revents: 0))
                owners.append(owner)
            }
            watch(listener, .listener)
            for (i, c) in clients.enumerated() where c.fd >= 0 {
                watch(c.fd, .client(i), write: !c.connected || !c.output.isEmpty)
            }
            for (i, s) in servers.enumerated() where s.fd >= 0 { watch(s.fd, .server(i), write: !s.output.isEmpty) }
            watch(streamServer, .streamServer)
            watch(streamClient, .streamClient)
            watch(pinger, .pinger)
            let n = poll(&fds, nfds_t(fds.count), 10)
            let t = WallClock.now()
            if n > 0 {
                for (i, p) in fds.enumerated() where p.revents != 0 { handle(owners[i], p.revents, t) }
            }
            previousTurn = t
            for i in records.indices where !wasReady[i] && !records[i].arrivals.isEmpty {
                wasReady[i] = true
                onReady()
            }
        }
    }

    func closeAll() {
        guard !closed else { return }
        closed = true
        for fd in [listener, streamServer, streamClient, pinger] + clients.map(\.fd) + servers.map(\.fd) where fd >= 0 { close(fd) }
    }

    // MARK: timers

    private func fireTimers(_ now: Double) {
        for i in clients.indices where clients[i].fd >= 0 && clients[i].connected && now >= clients[i].nextLine {
            clients[i].output += Array("L\(clients[i].sequence)\n".utf8)
            clients[i].sequence += 1
            clients[i].nextLine = Self.advance(clients[i].nextLine, by: options.interval, now: now)
            flushClient(i, now)
        }
        for i in servers.indices where servers[i].fd >= 0 && options.push > 0 && now >= servers[i].nextPush {
            servers[i].output += Array("P\(servers[i].pushes)\n".utf8)
            servers[i].pushes += 1
            servers[i].nextPush = Self.advance(servers[i].nextPush, by: options.push, now: now)
            flushServer(i)
        }
        if let to = subscriber, now >= nextStream {
            let seq = records[streamSession].sent.count
            let payload = Array("U\(seq)".utf8)
            _ = payload.withUnsafeBytes { b in
                InetSocket.withSockaddr(to) { sendto(streamServer, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, $1) }
            }
            records[streamSession].sent.append(now)
            nextStream = Self.advance(nextStream, by: options.interval, now: now)
        }
        // Until the stream starts (the first datagram may wait for ARP), the client repeats
        // its subscribe a bounded number of times; never once the stream runs.
        if records[streamSession].arrivals.isEmpty && subscribes < 40 && now >= nextSubscribe {
            let payload = Array("subscribe".utf8)
            let to = InetSocket.address(SeedAddressing.server, SeedAddressing.streamPort)
            _ = payload.withUnsafeBytes { b in
                InetSocket.withSockaddr(to) { sendto(streamClient, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, $1) }
            }
            subscribes += 1
            nextSubscribe = now + 0.25
        }
        if now >= nextPing {
            let seq = records[pingSession].sent.count & 0xffff
            // type 8 (echo request), code 0; the kernel fills in identifier and checksum.
            let packet: [UInt8] = [8, 0, 0, 0, 0, 0, UInt8(seq >> 8), UInt8(seq & 0xff)] + Array("tandem-lab".utf8)
            let to = InetSocket.address(SeedAddressing.server, 0)
            _ = packet.withUnsafeBytes { b in
                InetSocket.withSockaddr(to) { sendto(pinger, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, $1) }
            }
            records[pingSession].sent.append(now)
            nextPing = Self.advance(nextPing == 0 ? now : nextPing, by: options.interval, now: now)
        }
    }

    /// The next tick of a fixed-rate timer; after a long hiccup it restarts from now
    /// instead of firing a burst.
    private static func advance(_ due: Double, by interval: Double, now: Double) -> Double {
        let next = due + interval
        return next < now - 1 ? now + interval : next
    }

    // MARK: events

    private func handle(_ owner: Owner, _ events: Int16, _ t: Double) {
        switch owner {
        case .listener: acceptAll(t)
        case .client(let i): clientEvent(i, events, t)
        case .server(let i): serverEvent(i, events, t)
        case .streamServer: streamServerEvent(t)
        case .streamClient: streamClientEvent(t)
        case .pinger: pingerEvent(t)
        }
    }

    private func acceptAll(_ t: Double) {
        for _ in 0..<64 {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            InetSocket.makeNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            InetSocket.setOption(fd, InetSocket.ipprotoTCP, InetSocket.tcpNoDelay, 1)
            InetSocket.setOption(fd, InetSocket.ipprotoTCP, InetSocket.tcpUserTimeout, 15000)
            servers.append(ServerConnection(fd: fd, nextPush: t + options.push))
        }
    }

    private func clientEvent(_ i: Int, _ events: Int16, _ t: Double) {
        let session = clients[i].session
        if !clients[i].connected {
            let e = InetSocket.pendingError(clients[i].fd)
            if e != 0 { return failClient(i, Self.failure(e), t) }
            guard events & Int16(POLLOUT) != 0 else { return }
            clients[i].connected = true
            clients[i].output += Array("H\(session)\n".utf8)
            clients[i].nextLine = t
            flushClient(i, t)
            return
        }
        if events & Int16(POLLOUT) != 0 { flushClient(i, t) }
        guard clients[i].fd >= 0, events & Int16(POLLIN | POLLERR | POLLHUP) != 0 else { return }
        while clients[i].fd >= 0 {
            let n = buffer.withUnsafeMutableBytes { recv(clients[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                clients[i].input += buffer[0..<n]
                for line in Self.takeLines(&clients[i].input) where line.first == UInt8(ascii: "L") || line.first == UInt8(ascii: "P") {
                    records[session].arrivals.append(t)
                }
                continue
            }
            if n == 0 { return failClient(i, .eof, t) }
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return }
            return failClient(i, Self.failure(e), t)
        }
    }

    private func flushClient(_ i: Int, _ t: Double) {
        guard clients[i].fd >= 0, clients[i].connected, !clients[i].output.isEmpty else { return }
        let n = clients[i].output.withUnsafeBytes { send(clients[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        if n > 0 { clients[i].output.removeFirst(n); return }
        let e = errno
        if n < 0 && e != EAGAIN && e != EWOULDBLOCK && e != EINTR { failClient(i, Self.failure(e), t) }
    }

    private func failClient(_ i: Int, _ reason: SessionFailure, _ t: Double) {
        records[clients[i].session].fail(reason, at: t, after: min(previousTurn, t))
        close(clients[i].fd)
        clients[i].fd = -1
    }

    private func serverEvent(_ i: Int, _ events: Int16, _ t: Double) {
        if events & Int16(POLLOUT) != 0 { flushServer(i) }
        guard servers[i].fd >= 0, events & Int16(POLLIN | POLLERR | POLLHUP) != 0 else { return }
        while servers[i].fd >= 0 {
            let n = buffer.withUnsafeMutableBytes { recv(servers[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                let bytes = buffer[0..<n]
                servers[i].output += bytes
                if servers[i].session == nil {
                    servers[i].input += bytes
                    if let hello = Self.takeLines(&servers[i].input).first, hello.first == UInt8(ascii: "H"),
                       let s = Int(String(decoding: hello.dropFirst(), as: UTF8.self)), s >= 0, s < options.tcpSessions {
                        servers[i].session = s
                    }
                    servers[i].input.removeAll()
                }
                flushServer(i)
                continue
            }
            if n == 0 { return closeServer(i) }
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return }
            if e == ECONNRESET || e == EPIPE, let s = servers[i].session {
                records[s].resetSeen = true
                if records[s].serverResetAt == nil {
                    records[s].serverResetAt = t
                    records[s].serverResetAfter = min(previousTurn, t)
                }
            }
            return closeServer(i)
        }
    }

    private func flushServer(_ i: Int) {
        guard servers[i].fd >= 0, !servers[i].output.isEmpty else { return }
        let n = servers[i].output.withUnsafeBytes { send(servers[i].fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        if n > 0 { servers[i].output.removeFirst(n) }
        // Errors surface on the next receive, where a reset is attributed to its session.
    }

    private func closeServer(_ i: Int) {
        close(servers[i].fd)
        servers[i].fd = -1
    }

    private func streamServerEvent(_ t: Double) {
        for _ in 0..<16 {
            var from = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buffer.withUnsafeMutableBytes { b in
                withUnsafeMutablePointer(to: &from) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(streamServer, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, &len) }
                }
            }
            guard n > 0 else { return }
            if subscriber == nil, String(decoding: buffer[0..<n], as: UTF8.self) == "subscribe" {
                // The address seen is the firewall's SNAT (WAN VIP and port): the stream goes there.
                subscriber = from
                nextStream = t
            }
        }
    }

    private func streamClientEvent(_ t: Double) {
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { recv(streamClient, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n > 1, buffer[0] == UInt8(ascii: "U"), let seq = Int(String(decoding: buffer[1..<n], as: UTF8.self)) else { return }
            records[streamSession].arrivals.append(t)
            records[streamSession].received.insert(seq)
        }
    }

    private func pingerEvent(_ t: Double) {
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { recv(pinger, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n >= 8 else { return }
            guard buffer[0] == 0 else { continue } // echo replies only
            let seq = Int(buffer[6]) << 8 | Int(buffer[7])
            records[pingSession].arrivals.append(t)
            records[pingSession].received.insert(seq)
        }
    }

    private static func takeLines(_ input: inout [UInt8]) -> [ArraySlice<UInt8>] {
        guard let last = input.lastIndex(of: 10) else { return [] }
        let complete = Array(input[...last])
        input.removeFirst(last + 1)
        return complete.split(separator: 10)
    }

    private static func failure(_ e: Int32) -> SessionFailure {
        switch e {
        case ECONNRESET, EPIPE: return .rst
        case ETIMEDOUT: return .timeout
        case ECONNREFUSED: return .refused
        default: return .error
        }
    }
}
