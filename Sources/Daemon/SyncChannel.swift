#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing

/// Traffic counters of one dedicated link, as `conntrackd -s` reports them.
public struct ChannelCounters: Hashable, Sendable {
    public var bytesSent = 0, bytesReceived = 0
    public var packetsSent = 0, packetsReceived = 0
    public var sendErrors = 0, receiveErrors = 0
    public init() {}
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
    func send(_ bytes: [UInt8])
    func receiveAll() -> [ChannelInput]
    /// Connection upkeep (TCP: accept, reconnect); nothing for datagram channels.
    func service(now: UInt64)
}

extension SyncChannel {
    public var foreignDatagrams: Int { 0 }
    public var lastForeignSource: UInt32? { nil }
    public func service(now: UInt64) {}
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

    static func bindToDevice(_ fd: Int32, _ interface: String?) -> Bool {
        guard let interface else { return true }
        return interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) } == 0
    }

    static func setBuffers(_ fd: Int32, send: Int?, receive: Int?) {
        if var v = send.map(Int32.init(clamping:)) { setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, socklen_t(4)) }
        if var v = receive.map(Int32.init(clamping:)) { setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, socklen_t(4)) }
    }

    static func option(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        setsockopt(fd, level, name, &v, socklen_t(4))
    }

    /// The interface MTU, for the batch size (spec §4.4); 1500 when unknown.
    static func mtu(_ interface: String?) -> Int {
        guard let interface else { return 1500 }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return 1500 }
        defer { close(fd) }
        var request = ifreq()
        let bytes = Array(interface.utf8.prefix(Int(IFNAMSIZ) - 1))
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        guard ioctl(fd, UInt(SIOCGIFMTU), &request) == 0 else { return 1500 }
        return Int(request.ifr_ifru.ifru_mtu)
    }
}
