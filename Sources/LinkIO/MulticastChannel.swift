#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Conntrack
import IPAddressing
import Timekeeping

/// conntrackd's multicast dedicated link (spec §4.2): one socket bound to the wildcard
/// address on the group's port (`Group` is the port) and joined to the group on the
/// local interface address; sends go to the group from that interface, without loopback.
public final class MulticastChannel: SyncChannel, BackloggedSender {
    public let descriptor: Int32
    let group: sockaddr_in
    public let interface: String?
    public let maximumPayload: Int
    public internal(set) var counters = ChannelCounters()
    var backlog = SendBacklog()
    var target: SocketTarget { SocketTarget(.v4(UInt32(bigEndian: group.sin_addr.s_addr)), port: UInt16(bigEndian: group.sin_port)) }

    public var kind: ConntrackdConfiguration.Channel.Kind { .multicast }
    public var descriptors: [Int32] { [descriptor] }

    public init(group: IPAddress, port: UInt16, localInterfaceAddress: IPAddress, interface: String?,
                sendBuffer: Int?, receiveBuffer: Int?, checksum: Bool = true) throws(SetupError) {
        guard case .v4(let g) = group, case .v4(let local) = localInterfaceAddress else {
            throw .configuration("only IPv4 multicast channels are supported so far")
        }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        descriptor = fd
        ChannelSocket.option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        ChannelSocket.setBuffers(fd, send: sendBuffer, receive: receiveBuffer)
        if !checksum { ChannelSocket.option(fd, SOL_SOCKET, 11, 1) }
        guard ChannelSocket.bind(fd, ChannelSocket.address(0, port: port)) == 0 else {
            let e = errno; close(fd); throw .system("bind 0.0.0.0:\(port)", e)
        }
        var membership = ip_mreq()
        membership.imr_multiaddr.s_addr = g.bigEndian
        membership.imr_interface.s_addr = local.bigEndian
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &membership, socklen_t(MemoryLayout<ip_mreq>.size)) == 0 else {
            let e = errno; close(fd); throw .unavailable("cannot join multicast group \(group) on \(localInterfaceAddress): \(String(cString: strerror(e)))")
        }
        // Our own datagrams must not come back to us as the peer's.
        ChannelSocket.option(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, 0)
        var outgoing = in_addr(s_addr: local.bigEndian)
        setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &outgoing, socklen_t(MemoryLayout<in_addr>.size))
        self.group = ChannelSocket.address(g, port: port)
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
            let n = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n < 0 {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { counters.receiveErrors += 1 }
                break
            }
            counters.bytesReceived += n
            counters.packetsReceived += 1
            out.append(.datagram(Array(buffer[0..<n])))
        }
        return out
    }
}
