#if canImport(Glibc)
import Glibc
#endif
import CLinux
import ConfigParsing
import Timekeeping

/// Traffic counters of one dedicated link, as `conntrackd -s` reports them.
public struct ChannelCounters: Hashable, Sendable {
    public var bytesSent = 0, bytesReceived = 0
    public var packetsSent = 0, packetsReceived = 0
    public var sendErrors = 0, receiveErrors = 0
    /// Datagrams (or TCP buffers) dropped because the send buffer was full and the
    /// channel's backlog too (counted among the send errors).
    public var droppedSendBufferFull = 0
    /// Datagrams that waited in the backlog for the send buffer, and were sent after.
    public var deferredSendBufferFull = 0
    public init() {}

    /// Counts a failed send by its errno.
    mutating func sendFailed(_ e: Int32) {
        sendErrors += 1
        if e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS { droppedSendBufferFull += 1 }
    }
}

/// What arrived on a channel: whole datagrams, or (TCP) the bytes read from the stream,
/// which the receiver splits into messages and may leave a partial one of.
public enum ChannelInput {
    case datagram([UInt8])
    /// `restarted`: the bytes begin a new connection, so a partial message held from the
    /// previous one is void.
    case stream([UInt8], restarted: Bool)
}

/// One dedicated link of the sync protocol (spec §4): UDP, multicast or TCP. The loop
/// polls its descriptors, reads what arrived, and hands it whole message batches to send.
public protocol SyncChannel: AnyObject {
    var kind: ConntrackdConfiguration.Channel.Kind { get }
    var interface: String? { get }
    /// Largest batch of messages one send may carry (spec §4.4).
    var maximumPayload: Int { get }
    var descriptors: [Int32] { get }
    var counters: ChannelCounters { get }
    /// Datagrams dropped because they did not come from the configured peer.
    var foreignDatagrams: Int { get }
    var lastForeignSource: UInt32? { get }
    /// TCP: connections from the peer's address refused while its live one was kept.
    var secondConnections: Int { get }
    func send(_ bytes: [UInt8])
    /// Datagrams back to back in `bytes`, datagram i ending at `ends[i]`.
    func send(batch bytes: [UInt8], ends: [Int])
    func receiveAll() -> [ChannelInput]
    /// Connection upkeep (TCP: accept, reconnect); datagram channels send their backlog.
    func service(now: Instant)
    /// Datagrams wait for room in the send buffer: the owner comes back soon.
    var backlogged: Bool { get }
}

extension SyncChannel {
    public func send(batch bytes: [UInt8], ends: [Int]) {
        var start = 0
        for end in ends {
            send(Array(bytes[start..<end]))
            start = end
        }
    }

    public var foreignDatagrams: Int { 0 }
    public var lastForeignSource: UInt32? { nil }
    public var secondConnections: Int { 0 }
    public func service(now: Instant) {}
    public var backlogged: Bool { false }
}

/// Socket plumbing shared by the channel kinds.
enum ChannelSocket {
    static func address(_ a: UInt32, port: UInt16) -> sockaddr_in {
        var s = sockaddr_in()
        s.sin_family = sa_family_t(AF_INET)
        s.sin_port = port.bigEndian
        s.sin_addr.s_addr = a.bigEndian
        return s
    }

    static func bind(_ fd: Int32, _ a: sockaddr_in) -> Int32 {
        var a = a
        return withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    static func bind(_ fd: Int32, _ a: SocketTarget) -> Int32 {
        a.withSocketAddress { Glibc.bind(fd, $0, $1) }
    }

    static func bindToDevice(_ fd: Int32, _ interface: String?) -> Bool {
        guard let interface else { return true }
        return interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) } == 0
    }

    static func setBuffers(_ fd: Int32, send: Int?, receive: Int?) {
        if var v = send.map(Int32.init(clamping:)) { setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, socklen_t(4)) }
        if var v = receive.map(Int32.init(clamping:)) { setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, socklen_t(4)) }
    }

    /// One datagram to `target`, counted in `counters`; never blocks.
    static func send(_ fd: Int32, _ datagram: ArraySlice<UInt8>, to target: sockaddr_in, counters: inout ChannelCounters) {
        var target = target
        let n = datagram.withUnsafeBytes { raw in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if n < 0 { counters.sendFailed(errno) } else { counters.bytesSent += n; counters.packetsSent += 1 }
    }

    /// `send` for a batch (see `SyncChannel.send(batch:ends:)`), 64 datagrams per system
    /// call: the peer is woken once per call, not once per datagram. A datagram the
    /// kernel refuses is counted and dropped, as one `sendto` would, except that with
    /// `deferring` a full send buffer stops the batch: returned is the index of the first
    /// datagram not sent, for the caller's backlog.
    @discardableResult
    static func send(_ fd: Int32, batch bytes: [UInt8], ends: [Int], to target: sockaddr_in, counters: inout ChannelCounters,
                     deferring: Bool = false) -> Int? {
        var target = target
        return withUnsafePointer(to: &target) {
            send(fd, batch: bytes, ends: ends, to: UnsafeRawPointer($0), length: UInt32(MemoryLayout<sockaddr_in>.size),
                 counters: &counters, deferring: deferring)
        }
    }

    @discardableResult
    static func send(_ fd: Int32, batch bytes: [UInt8], ends: [Int], to target: SocketTarget, counters: inout ChannelCounters,
                     deferring: Bool = false) -> Int? {
        target.withSocketAddress {
            send(fd, batch: bytes, ends: ends, to: UnsafeRawPointer($0), length: UInt32($1), counters: &counters, deferring: deferring)
        }
    }

    private static func send(_ fd: Int32, batch bytes: [UInt8], ends: [Int], to target: UnsafeRawPointer, length: UInt32,
                             counters: inout ChannelCounters, deferring: Bool) -> Int? {
        var first = 0
        var stopped: Int?
        bytes.withUnsafeBytes { raw in
            ends.withUnsafeBufferPointer { e in
                e.withMemoryRebound(to: UInt.self) { ends in
                    while first < ends.count {
                        let start = first == 0 ? 0 : ends[first - 1]
                        let count = min(64, ends.count - first)
                        let n = clinux_send_batch(fd, raw.baseAddress, start, ends.baseAddress! + first, UInt32(count),
                                                  target, length)
                        if n < 0 {
                            if errno == EINTR { continue }
                            if deferring && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
                                stopped = first
                                break
                            }
                            counters.sendFailed(errno)
                            first += 1
                            continue
                        }
                        for i in first ..< first + Int(n) {
                            counters.bytesSent += Int(ends[i] - (i == 0 ? 0 : ends[i - 1]))
                            counters.packetsSent += 1
                        }
                        first += Int(n)
                    }
                }
            }
        }
        return stopped
    }

    static func option(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        setsockopt(fd, level, name, &v, socklen_t(4))
    }

    /// The interface MTU, for the batch size (spec §4.4); 1500 when unknown.
    static func mtu(_ interface: String?) -> Int {
        guard let interface, let r = InterfaceStatus.query(interface, UInt(SIOCGIFMTU)) else { return 1500 }
        return Int(r.ifr_ifru.ifru_mtu)
    }
}

/// Datagrams a link reads per loop turn.
let datagramsPerTurn = 256

/// A datagram channel's sends through its backlog: what waits goes first, what the
/// kernel will not take yet waits (see `SendBacklog`).
protocol BackloggedSender: AnyObject {
    var descriptor: Int32 { get }
    var target: SocketTarget { get }
    var counters: ChannelCounters { get set }
    var backlog: SendBacklog { get set }
}

extension BackloggedSender {
    func sendThroughBacklog(_ bytes: [UInt8], ends: [Int]) {
        if !backlog.isEmpty {
            flushBacklog()
            if !backlog.isEmpty {
                backlog.keep(bytes, ends: ends, from: 0, fresh: true)
                noteDrops()
                return
            }
        }
        if let stop = ChannelSocket.send(descriptor, batch: bytes, ends: ends, to: target, counters: &counters, deferring: true) {
            backlog.keep(bytes, ends: ends, from: stop, fresh: true)
            noteDrops()
        }
    }

    func flushBacklog() {
        guard !backlog.isEmpty else { return }
        let (bytes, ends) = backlog.take()
        if let stop = ChannelSocket.send(descriptor, batch: bytes, ends: ends, to: target, counters: &counters, deferring: true) {
            backlog.keep(bytes, ends: ends, from: stop, fresh: false)
        }
        counters.deferredSendBufferFull = backlog.deferred
    }

    private func noteDrops() {
        counters.deferredSendBufferFull = backlog.deferred
        let new = backlog.dropped - counters.droppedSendBufferFull
        if new > 0 {
            counters.droppedSendBufferFull += new
            counters.sendErrors += new
        }
    }
}
