/// Adds and removes routes over rtnetlink (RTM_NEWROUTE / RTM_DELROUTE), as a VRRP master
/// does with its `virtual_routes`.
public final class Routes {
    public static let newRoute: UInt16 = 24
    public static let deleteRoute: UInt16 = 25
    enum RTA {
        static let destination: UInt16 = 1
        static let outputInterface: UInt16 = 4
        static let gateway: UInt16 = 5
        static let priority: UInt16 = 6
        static let preferredSource: UInt16 = 7
        static let table: UInt16 = 15
    }
    /// RTPROT_KEEPALIVED: `ip route` shows who installed the route.
    static let protocolKeepalived: UInt8 = 18

    /// What one route is, in rtnetlink's terms.
    public struct Route: Hashable, Sendable {
        public enum Kind: UInt8, Sendable { case unicast = 1, blackhole = 6, unreachable = 7, prohibit = 8 }
        public var family: UInt8
        /// Network-order bytes (4 or 16); empty = default route.
        public var destination: [UInt8]
        public var prefix: UInt8
        public var kind: Kind
        public var gateway: [UInt8]?
        public var source: [UInt8]?
        public var interface: UInt32?
        public var scope: UInt8?
        public var table: UInt32?
        public var metric: UInt32?
        public var onlink: Bool

        public init(family: UInt8, destination: [UInt8], prefix: UInt8, kind: Kind = .unicast, gateway: [UInt8]? = nil,
                    source: [UInt8]? = nil, interface: UInt32? = nil, scope: UInt8? = nil, table: UInt32? = nil,
                    metric: UInt32? = nil, onlink: Bool = false) {
            self.family = family
            self.destination = destination
            self.prefix = prefix
            self.kind = kind
            self.gateway = gateway
            self.source = source
            self.interface = interface
            self.scope = scope
            self.table = table
            self.metric = metric
            self.onlink = onlink
        }
    }

    public let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    public init() throws {
        socket = try NetlinkSocket(protocol: NetlinkProtocol.route)
        socket.enableExtendedAcksIfAvailable()
    }

    /// Replaces an existing route with the same key, as `ip route replace` (a restarted
    /// master finds its routes still there).
    public func add(_ r: Route) throws {
        try send(Self.newRoute, [.request, .ack, .create, .replace], r)
    }

    public func remove(_ r: Route) throws {
        try send(Self.deleteRoute, [.request, .ack], r)
    }

    private func send(_ type: UInt16, _ flags: NetlinkFlags, _ r: Route) throws {
        var batch = MessageBatch()
        batch.append(type: type, flags: flags, sequence: socket.makeSequence()) { e in
            // Without a scope, what `ip route` picks: link for a gateway-less unicast route
            // through a device, global otherwise.
            let scope = r.scope ?? (r.kind == .unicast && r.gateway == nil && r.interface != nil ? 253 : 0)
            let table = r.table ?? 254
            // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (host order)
            e.bytes += [r.family, r.prefix, 0, 0, UInt8(table < 256 ? table : 252), Self.protocolKeepalived, scope, r.kind.rawValue]
            let f: UInt32 = r.onlink ? 4 : 0
            e.bytes += [UInt8(f & 0xff), UInt8((f >> 8) & 0xff), UInt8((f >> 16) & 0xff), UInt8(f >> 24)]
            if !r.destination.isEmpty { e.data(RTA.destination, r.destination) }
            if let g = r.gateway { e.data(RTA.gateway, g) }
            if let s = r.source { e.data(RTA.preferredSource, s) }
            if let i = r.interface { e.uint32Host(RTA.outputInterface, i) }
            if let m = r.metric { e.uint32Host(RTA.priority, m) }
            if table >= 256 { e.uint32Host(RTA.table, table) }
        }
        try socket.request(batch, buffer: &buffer)
    }
}
