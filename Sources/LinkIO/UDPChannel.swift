#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import IPAddressing
import Timekeeping

/// conntrackd's UDP dedicated link (spec §4.1): bound to the local address and port,
/// sending to the peer's; messages of one transmit run are packed into datagrams.
public final class UDPChannel: SyncChannel, BackloggedSender {
    public let descriptor: Int32
    let peer: sockaddr_in
    public let interface: String?
    public let maximumPayload: Int
    public internal(set) var counters = ChannelCounters()
    var backlog = SendBacklog()
    var target: sockaddr_in { peer }
    /// Datagrams from an address other than the peer's, dropped unread. conntrackd reads
    /// them: one stray datagram that happens to parse can move its sequence tracking far
    /// ahead, after which the real peer's messages all count as old and are dropped.
    public private(set) var foreignDatagrams = 0
    public private(set) var lastForeignSource: UInt32?

    public var kind: ConntrackdConfiguration.Channel.Kind { .udp }
    public var descriptors: [Int32] { [descriptor] }

    public init(local: IPAddress, peer: IPAddress, port: UInt16, interface: String?, sendBuffer: Int?, receiveBuffer: Int?,
                checksum: Bool = true) throws(SetupError) {
        guard case .v4(let l) = local, case .v4(let p) = peer else { throw .configuration("only IPv4 UDP channels are supported so far") }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        descriptor = fd
        ChannelSocket.option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if !ChannelSocket.bindToDevice(fd, interface) { let e = errno; close(fd); throw .system("SO_BINDTODEVICE \(interface ?? "")", e) }
        ChannelSocket.setBuffers(fd, send: sendBuffer, receive: receiveBuffer)
        // `Checksum off`: datagrams leave with a zero UDP checksum (SO_NO_CHECK).
        if !checksum { ChannelSocket.option(fd, SOL_SOCKET, 11, 1) }
        guard ChannelSocket.bind(fd, ChannelSocket.address(l, port: port)) == 0 else {
            let e = errno; close(fd); throw .system("bind \(local):\(port)", e)
        }
        self.peer = ChannelSocket.address(p, port: port)
        self.interface = interface
        maximumPayload = ChannelSocket.mtu(interface) - 28
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
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &length)
                }
            }
            if n < 0 {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { counters.receiveErrors += 1 }
                break
            }
            if source.sin_addr.s_addr != peer.sin_addr.s_addr {
                foreignDatagrams += 1
                lastForeignSource = UInt32(bigEndian: source.sin_addr.s_addr)
                continue
            }
            counters.bytesReceived += n
            counters.packetsReceived += 1
            out.append(.datagram(Array(buffer[0..<n])))
        }
        return out
    }
}
