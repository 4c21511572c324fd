#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import IPAddressing
import Timekeeping

/// conntrackd's UDP dedicated link (spec §4.1): bound to the local address and port,
/// sending to the peer's; messages of one transmit run are packed into datagrams. IPv4
/// or IPv6 (IPv6_address / IPv6_Destination_Address), as conntrackd.
public final class UDPChannel: SyncChannel, BackloggedSender {
    public let descriptor: Int32
    let peer: SocketTarget
    public let interface: String?
    public let maximumPayload: Int
    public internal(set) var counters = ChannelCounters()
    var backlog = SendBacklog()
    var target: SocketTarget { peer }
    /// Datagrams from an address other than the peer's, dropped unread. conntrackd reads
    /// them: one stray datagram that happens to parse can move its sequence tracking far
    /// ahead, after which the real peer's messages all count as old and are dropped.
    public private(set) var foreignDatagrams = 0
    public private(set) var lastForeignSource: UInt32?

    public var kind: ConntrackdConfiguration.Channel.Kind { .udp }
    public var descriptors: [Int32] { [descriptor] }

    public init(local: IPAddress, peer: IPAddress, port: UInt16, interface: String?, sendBuffer: Int?, receiveBuffer: Int?,
                checksum: Bool = true) throws(SetupError) {
        guard local.family == peer.family else { throw .configuration("the UDP link's local and peer addresses are of different families") }
        // A link-local IPv6 address needs the interface (conntrackd takes its index too).
        let scope = interface.map { if_nametoindex($0) } ?? 0
        let bound = SocketTarget(local, port: port, scope: scope)
        let fd = socket(bound.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        descriptor = fd
        ChannelSocket.option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if !ChannelSocket.bindToDevice(fd, interface) { let e = errno; close(fd); throw .system("SO_BINDTODEVICE \(interface ?? "")", e) }
        ChannelSocket.setBuffers(fd, send: sendBuffer, receive: receiveBuffer)
        // `Checksum off`: datagrams leave with a zero UDP checksum (SO_NO_CHECK).
        if !checksum { ChannelSocket.option(fd, SOL_SOCKET, 11, 1) }
        guard ChannelSocket.bind(fd, bound) == 0 else {
            let e = errno; close(fd); throw .system("bind \(local):\(port)", e)
        }
        self.peer = SocketTarget(peer, port: port, scope: scope)
        self.interface = interface
        // IP and UDP headers: 20 + 8 bytes, or 40 + 8 over IPv6.
        maximumPayload = ChannelSocket.mtu(interface) - (bound.family == AF_INET6 ? 48 : 28)
    }

    deinit { close(descriptor) }

    public func send(_ datagram: [UInt8]) { sendThroughBacklog(datagram, ends: [datagram.count]) }

    public func send(batch bytes: [UInt8], ends: [Int]) { sendThroughBacklog(bytes, ends: ends) }

    public func service(now: Instant) { flushBacklog() }

    public var backlogged: Bool { !backlog.isEmpty }

    /// Reused for every read: a fresh 64 KiB buffer per turn was zeroed each time.
    private var buffer = [UInt8](repeating: 0, count: 65536)

    public func receiveAll() -> [ChannelInput] {
        var out: [ChannelInput] = []
        // Bounded per turn: the loop comes straight back while the socket stays readable,
        // and a full 24 MB receive buffer is never decoded into messages all at once.
        for _ in 0 ..< datagramsPerTurn {
            var source = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
            if n < 0 {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { counters.receiveErrors += 1 }
                break
            }
            if !peer.isSameAddress(as: source) {
                foreignDatagrams += 1
                lastForeignSource = SocketTarget.firstWord(of: source)
                continue
            }
            counters.bytesReceived += n
            counters.packetsReceived += 1
            out.append(.datagram(Array(buffer[0..<n])))
        }
        return out
    }
}
