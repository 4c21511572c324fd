#if canImport(Glibc)
import Glibc
#endif

/// Adds and removes interface addresses over rtnetlink (RTM_NEWADDR / RTM_DELADDR), as a
/// VRRP master does with its virtual addresses.
public final class InterfaceAddresses {
    public static let newAddress: UInt16 = 20
    public static let deleteAddress: UInt16 = 21
    enum IFA {
        static let address: UInt16 = 1
        static let local: UInt16 = 2
        static let label: UInt16 = 3
        static let broadcast: UInt16 = 4
        static let cacheInfo: UInt16 = 6
        static let flags: UInt16 = 8
    }

    public let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    public init(namespace: String? = nil) throws {
        let open = { try NetlinkSocket(protocol: NetlinkProtocol.route) }
        socket = try namespace.map { try NetworkNamespace.run(named: $0, open) } ?? open()
        socket.enableExtendedAcksIfAvailable()
    }

    /// The interface index, or nil when there is no such interface (in this socket's
    /// namespace only if called from a thread in it; use `index(of:)` on the daemon's own).
    public static func index(of name: String) -> UInt32? {
        let i = if_nametoindex(name)
        return i == 0 ? nil : i
    }

    /// `address` is 4 or 16 network-order bytes.
    /// `flags`: IFA_F_* sent as IFA_FLAGS, as keepalived does (NODAD 0x02 makes an IPv6
    /// address usable at once instead of tentative for the duplicate-address-detection
    /// period; the wider ones do not fit the header's byte).
    /// `peer`: the other end of a point-to-point address, sent as IFA_ADDRESS.
    /// `scope`: RT_SCOPE_* (0 global, 253 link, 254 host...).
    /// `preferredLifetime`: seconds before the address is deprecated (0: at once), sent as
    /// IFA_CACHEINFO with a valid lifetime of forever; nil: forever, no attribute.
    public func add(_ address: [UInt8], prefix: UInt8, interface: UInt32, label: String? = nil, broadcast: [UInt8]? = nil,
                    peer: [UInt8]? = nil, flags: UInt32 = 0, scope: UInt8 = 0, preferredLifetime: UInt32? = nil) throws {
        try send(Self.newAddress, [.request, .ack, .create, .excl], address, prefix, interface,
                 Extras(label: label, broadcast: broadcast, peer: peer, flags: flags, scope: scope, preferredLifetime: preferredLifetime))
    }

    /// A point-to-point address is found by its peer: the kernel matches IFA_ADDRESS
    /// against the address's peer and prefix, so the address itself would match nothing.
    public func remove(_ address: [UInt8], prefix: UInt8, interface: UInt32, peer: [UInt8]? = nil) throws {
        try send(Self.deleteAddress, [.request, .ack], address, prefix, interface, Extras(peer: peer))
    }

    struct Extras {
        var label: String?
        var broadcast: [UInt8]?
        var peer: [UInt8]?
        var flags: UInt32 = 0
        var scope: UInt8 = 0
        var preferredLifetime: UInt32?
    }

    /// struct ifa_cacheinfo in host order: preferred, valid, and the two timestamps the
    /// kernel fills in.
    static func cacheInfo(preferred: UInt32, valid: UInt32 = UInt32.max) -> [UInt8] {
        var bytes: [UInt8] = []
        for word in [preferred, valid, 0, 0] { withUnsafeBytes(of: word) { bytes += $0 } }
        return bytes
    }

    private func send(_ type: UInt16, _ flags: NetlinkFlags, _ address: [UInt8], _ prefix: UInt8, _ interface: UInt32, _ extras: Extras) throws {
        var batch = MessageBatch()
        batch.append(type: type, flags: flags, sequence: socket.makeSequence()) { e in
            let family: UInt8 = address.count == 4 ? UInt8(AF_INET) : UInt8(AF_INET6)
            // ifaddrmsg: family, prefix length, flags (in IFA_FLAGS instead), scope, ifindex (host order)
            e.bytes += [family, prefix, 0, extras.scope]
            e.bytes += [UInt8(interface & 0xff), UInt8((interface >> 8) & 0xff), UInt8((interface >> 16) & 0xff), UInt8(interface >> 24)]
            e.data(IFA.local, address)
            e.data(IFA.address, extras.peer ?? address)
            if let broadcast = extras.broadcast { e.data(IFA.broadcast, broadcast) }
            if let label = extras.label { e.string(IFA.label, label) }
            if let preferredLifetime = extras.preferredLifetime { e.data(IFA.cacheInfo, Self.cacheInfo(preferred: preferredLifetime)) }
            if extras.flags != 0 { e.data(IFA.flags, withUnsafeBytes(of: extras.flags) { Array($0) }) }
        }
        try socket.request(batch, buffer: &buffer)
    }
}
