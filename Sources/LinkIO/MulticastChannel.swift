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
/// Over IPv6 (an `IPv6_address` group) the interface is named by `Interface`, as in
/// conntrackd.
///
/// Hardened (the default; docs/sync-hardening.md), the socket is bound to the group
/// address rather than the wildcard (no unicast datagram to the port reaches it) and to
/// the interface's device (nor does the group on another interface), and each datagram's
/// source must be on the interface's subnet (`MulticastSourceCheck`).
public final class MulticastChannel: SyncChannel, BackloggedSender {
    public let descriptor: Int32
    let group: SocketTarget
    public let interface: String?
    public let maximumPayload: Int
    public internal(set) var counters = ChannelCounters()
    var backlog = SendBacklog()
    var target: SocketTarget { group }
    /// Who may send to us; nil when hardening is off (every datagram is read).
    var sourceCheck: MulticastSourceCheck?
    /// The interface whose subnets the check holds, read again (at most once a second) when
    /// a source is refused: an address can come after the link opened — an IPv6 peer
    /// speaks from its link-local address, which appears only once DAD is done.
    let checkedDevice: String?
    let checkedFamily: Int32
    var subnetsReadAt = Instant.now()
    public private(set) var foreignDatagrams = 0
    public private(set) var lastForeignSource: UInt32?

    public var kind: ConntrackdConfiguration.Channel.Kind { .multicast }
    public var descriptors: [Int32] { [descriptor] }

    public init(group: IPAddress, port: UInt16, localInterfaceAddress: IPAddress?, interface: String?,
                sendBuffer: Int?, receiveBuffer: Int?, checksum: Bool = true, hardened: Bool = true) throws(SetupError) {
        let opened: (fd: Int32, group: SocketTarget, headers: Int)
        if case .v6 = group {
            opened = try Self.open6(group: group, port: port, interface: interface, hardened: hardened)
        } else {
            opened = try Self.open4(group: group, port: port, local: localInterfaceAddress, interface: interface, hardened: hardened)
        }
        if hardened {
            let device = interface ?? localInterfaceAddress.flatMap(MulticastSourceCheck.interface(holding:))
            let family: Int32 = if case .v6 = group { AF_INET6 } else { AF_INET }
            let subnets = device.map { MulticastSourceCheck.subnets(of: $0, family: family) } ?? []
            guard !subnets.isEmpty else {
                close(opened.fd)
                throw .unavailable("the Multicast link's interface \(device ?? "?") has no address to check the peer's against")
            }
            sourceCheck = MulticastSourceCheck(subnets: subnets)
            checkedDevice = device
            checkedFamily = family
        } else {
            sourceCheck = nil
            checkedDevice = nil
            checkedFamily = AF_UNSPEC
        }
        descriptor = opened.fd
        ChannelSocket.setBuffers(opened.fd, send: sendBuffer, receive: receiveBuffer)
        if !checksum { ChannelSocket.option(opened.fd, SOL_SOCKET, 11, 1) }
        self.group = opened.group
        self.interface = interface
        maximumPayload = ChannelSocket.mtu(interface) - opened.headers
    }

    private static func socket(_ family: Int32) throws(SetupError) -> Int32 {
        let fd = Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno) }
        ChannelSocket.option(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        return fd
    }

    private static func open4(group: IPAddress, port: UInt16, local: IPAddress?, interface: String?,
                              hardened: Bool) throws(SetupError) -> (Int32, SocketTarget, Int) {
        guard case .v4(let g) = group, case .v4(let local)? = local else {
            throw .configuration("an IPv4 multicast link needs an IPv4 group and IPv4_interface")
        }
        let fd = try socket(AF_INET)
        if hardened {
            guard let device = interface ?? MulticastSourceCheck.interface(holding: .v4(local)) else {
                close(fd); throw .unavailable("no interface holds the Multicast link's IPv4_interface \(IPAddress.v4(local))")
            }
            if !ChannelSocket.bindToDevice(fd, device) { let e = errno; close(fd); throw .system("SO_BINDTODEVICE \(device)", e) }
        }
        let bound = hardened ? g : 0
        guard ChannelSocket.bind(fd, ChannelSocket.address(bound, port: port)) == 0 else {
            let e = errno; close(fd); throw .system("bind \(IPAddress.v4(bound)):\(port)", e)
        }
        var membership = ip_mreq()
        membership.imr_multiaddr.s_addr = g.bigEndian
        membership.imr_interface.s_addr = local.bigEndian
        guard setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &membership, socklen_t(MemoryLayout<ip_mreq>.size)) == 0 else {
            let e = errno; close(fd); throw .unavailable("cannot join multicast group \(group) on \(IPAddress.v4(local)): \(String(cString: strerror(e)))")
        }
        // Our own datagrams must not come back to us as the peer's.
        ChannelSocket.option(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, 0)
        var outgoing = in_addr(s_addr: local.bigEndian)
        setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &outgoing, socklen_t(MemoryLayout<in_addr>.size))
        return (fd, SocketTarget(group, port: port), 28)
    }

    /// The IPv6 link: bound to [::]:port, joined to the group on the interface's index
    /// (IPV6_JOIN_GROUP), sending through that interface without loopback.
    private static func open6(group: IPAddress, port: UInt16, interface: String?, hardened: Bool) throws(SetupError) -> (Int32, SocketTarget, Int) {
        let index = interface.map { if_nametoindex($0) } ?? 0
        guard let interface, index != 0 else {
            throw .unavailable("an IPv6 multicast link needs its Interface (\(interface ?? "none") has no index)")
        }
        let fd = try socket(AF_INET6)
        if hardened, !ChannelSocket.bindToDevice(fd, interface) { let e = errno; close(fd); throw .system("SO_BINDTODEVICE \(interface)", e) }
        let bound = hardened ? SocketTarget(group, port: port, scope: index) : SocketTarget(.v6(0, 0), port: port)
        guard ChannelSocket.bind(fd, bound) == 0 else {
            let e = errno; close(fd); throw .system("bind [\(hardened ? "\(group)" : "::")]:\(port)", e)
        }
        // struct ipv6_mreq: the group's 16 bytes, then the interface index.
        var membership = group.bytes
        withUnsafeBytes(of: UInt32(index)) { membership += $0 }
        guard setsockopt(fd, Int32(IPPROTO_IPV6), 20 /* IPV6_JOIN_GROUP */, &membership, socklen_t(membership.count)) == 0 else {
            let e = errno; close(fd); throw .unavailable("cannot join multicast group \(group) on \(interface): \(String(cString: strerror(e)))")
        }
        ChannelSocket.option(fd, Int32(IPPROTO_IPV6), 19 /* IPV6_MULTICAST_LOOP */, 0)
        ChannelSocket.option(fd, Int32(IPPROTO_IPV6), 17 /* IPV6_MULTICAST_IF */, Int32(index))
        return (fd, SocketTarget(group, port: port, scope: index), 48)
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
            if sourceCheck != nil, !admits(source) {
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

extension MulticastChannel {
    func admits(_ source: sockaddr_storage) -> Bool {
        guard let check = sourceCheck else { return true }
        guard let address = SocketTarget.ipAddress(of: source) else { return false }
        if check.admits(address) { return true }
        let now = Instant.now()
        guard let device = checkedDevice, now - subnetsReadAt >= .seconds(1) else { return false }
        subnetsReadAt = now
        let subnets = MulticastSourceCheck.subnets(of: device, family: checkedFamily)
        if !subnets.isEmpty { sourceCheck = MulticastSourceCheck(subnets: subnets) }
        return sourceCheck?.admits(address) ?? false
    }
}
