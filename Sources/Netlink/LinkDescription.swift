/// An existing link as keepalived looks at it before it makes a VMAC (vrrp.c
/// vrrp_complete_instance): a private-mode macvlan on the right interface with the VRRP
/// MAC is one to take over, any other link of the wanted name is in the way.
public struct LinkDescription: Hashable, Sendable {
    public var index: UInt32
    public var name: String
    /// IFLA_INFO_KIND: "macvlan", "veth", ...; nil for a link without one.
    public var kind: String?
    /// IFLA_MACVLAN_MODE of a macvlan.
    public var macvlanMode: UInt32?
    /// IFLA_LINK: the interface a macvlan (or a veth's peer) hangs from.
    public var parent: UInt32?
    /// IFLA_ADDRESS.
    public var address: [UInt8]

    public init(index: UInt32, name: String, kind: String? = nil, macvlanMode: UInt32? = nil, parent: UInt32? = nil, address: [UInt8] = []) {
        self.index = index
        self.name = name
        self.kind = kind
        self.macvlanMode = macvlanMode
        self.parent = parent
        self.address = address
    }

    public var isPrivateMacvlan: Bool { kind == "macvlan" && macvlanMode == Links.macvlanPrivate }

    /// Reads one RTM_NEWLINK message of a dump; attributes not needed here are skipped.
    public static func decode(_ bytes: [UInt8], _ view: NetlinkMessageView) throws(NetlinkDecodingError) -> LinkDescription {
        let p = view.payload
        guard p.count >= Links.headerSize else {
            throw .truncatedPayload(type: view.header.type, needed: Links.headerSize, available: p.count)
        }
        let at = p.lowerBound + 4
        let index = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        var link = LinkDescription(index: index, name: "")
        try AttributeDecoder.withDecoder(bytes, range: (p.lowerBound + Links.headerSize)..<p.upperBound) { (d) throws(NetlinkDecodingError) in
            while let a = d.next() {
                switch a.type {
                case Links.IFLA.name: link.name = d.string(a)
                case Links.IFLA.address: link.address = d.data(a)
                case Links.IFLA.link: link.parent = d.uint32Host(a)
                case Links.IFLA.linkInfo:
                    var info = d.nested(a)
                    var mode: UInt32?
                    while let i = info.next() {
                        if i.type == Links.InfoAttribute.kind { link.kind = info.string(i) }
                        // The mode is read as a macvlan's, kept only once the kind says so.
                        if i.type == Links.InfoAttribute.data {
                            var data = info.nested(i)
                            while let m = data.next() {
                                if m.type == Links.macvlanMode, m.length == 4 { mode = data.uint32Host(m) }
                            }
                        }
                    }
                    if let e = info.error { throw e }
                    if link.kind == "macvlan" { link.macvlanMode = mode }
                default: break
                }
            }
            if let e = d.error { throw e }
        }
        return link
    }
}

extension Links {
    public static let getLink: UInt16 = 18

    /// Every link of this socket's namespace (RTM_GETLINK dump), in the kernel's order.
    public func all() throws -> [LinkDescription] {
        var batch = MessageBatch()
        batch.append(type: Self.getLink, flags: [.request, .dump], sequence: socket.makeSequence()) { e in
            e.bytes += [UInt8](repeating: 0, count: Self.headerSize)
        }
        var found: [LinkDescription] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        try socket.dump(batch, buffer: &buffer) { bytes, view in
            guard view.header.type == Self.newLink else { return }
            found.append(try LinkDescription.decode(bytes, view))
        }
        return found
    }
}
