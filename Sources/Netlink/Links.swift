/// Creates and deletes keepalived's VMAC interfaces over rtnetlink (RTM_NEWLINK /
/// RTM_DELLINK): a macvlan on the instance's interface with the VRRP MAC, in the mode
/// keepalived 2.2.7 gives it (private), up from the start.
public final class Links {
    public static let newLink: UInt16 = 16
    public static let deleteLink: UInt16 = 17
    /// ifinfomsg: family, pad, type (u16), index (s32), flags, change (u32).
    static let headerSize = 16
    enum IFLA {
        static let address: UInt16 = 1
        static let name: UInt16 = 3
        static let link: UInt16 = 5
        static let linkInfo: UInt16 = 18
        static let afSpec: UInt16 = 26
    }
    enum InfoAttribute {
        static let kind: UInt16 = 1
        static let data: UInt16 = 2
    }
    static let macvlanMode: UInt16 = 1
    public static let macvlanPrivate: UInt32 = 1
    public static let macvlanBridge: UInt32 = 4
    static let inet6AddressGenerationMode: UInt16 = 8
    static let flagUp: UInt32 = 1

    /// The macvlan `name` on `parent` with `mac`, brought up as it is made.
    public static func macvlan(name: String, parent: UInt32, mac: [UInt8], mode: UInt32, up: Bool = true, sequence: UInt32,
                               to batch: inout MessageBatch) {
        batch.append(type: newLink, flags: [.request, .ack, .create, .excl], sequence: sequence) { e in
            e.bytes += header(index: 0, up: up)
            e.uint32Host(IFLA.link, parent)
            e.string(IFLA.name, name)
            e.data(IFLA.address, mac)
            e.nested(IFLA.linkInfo) { info in
                info.data(InfoAttribute.kind, Array("macvlan".utf8))
                info.nested(InfoAttribute.data) { d in d.uint32Host(macvlanMode, mode) }
            }
        }
    }

    /// No IPv6 link-local address of its own (keepalived's addrgenmode none): the kernel
    /// reads IFLA_AF_SPEC only on a link that exists, hence a message of its own.
    public static func noAddressGeneration(index: UInt32, sequence: UInt32, to batch: inout MessageBatch) {
        batch.append(type: newLink, flags: [.request, .ack], sequence: sequence) { e in
            e.bytes += header(index: index, up: false)
            e.nested(IFLA.afSpec) { spec in
                spec.nested(10) { v6 in v6.uint8(inet6AddressGenerationMode, 1) }
            }
        }
    }

    /// Sets IFF_UP on an existing link.
    public static func setUp(index: UInt32, sequence: UInt32, to batch: inout MessageBatch) {
        batch.append(type: newLink, flags: [.request, .ack], sequence: sequence) { e in e.bytes += header(index: index, up: true) }
    }

    public static func delete(index: UInt32, sequence: UInt32, to batch: inout MessageBatch) {
        batch.append(type: deleteLink, flags: [.request, .ack], sequence: sequence) { e in
            e.bytes += header(index: index, up: false)
        }
    }

    static func header(index: UInt32, up: Bool) -> [UInt8] {
        var h: [UInt8] = [0, 0, 0, 0]
        h += hostBytes(index)
        h += hostBytes(up ? flagUp : 0) + hostBytes(up ? flagUp : 0)
        return h
    }

    static func hostBytes(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }

    public let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    public init() throws {
        socket = try NetlinkSocket(protocol: NetlinkProtocol.route)
        socket.enableExtendedAcksIfAvailable()
    }

    /// EEXIST when an interface of that name is there already.
    /// `up: false` leaves it down, so that no IPv6 link-local is generated before
    /// address generation is turned off (see `setUp`).
    public func addMacvlan(name: String, parent: UInt32, mac: [UInt8], mode: UInt32, up: Bool = true) throws {
        var batch = MessageBatch()
        Self.macvlan(name: name, parent: parent, mac: mac, mode: mode, up: up, sequence: socket.makeSequence(), to: &batch)
        try socket.request(batch, buffer: &buffer)
    }

    public func setUp(index: UInt32) throws {
        var batch = MessageBatch()
        Self.setUp(index: index, sequence: socket.makeSequence(), to: &batch)
        try socket.request(batch, buffer: &buffer)
    }

    public func disableAddressGeneration(index: UInt32) throws {
        var batch = MessageBatch()
        Self.noAddressGeneration(index: index, sequence: socket.makeSequence(), to: &batch)
        try socket.request(batch, buffer: &buffer)
    }

    public func remove(index: UInt32) throws {
        var batch = MessageBatch()
        Self.delete(index: index, sequence: socket.makeSequence(), to: &batch)
        try socket.request(batch, buffer: &buffer)
    }
}
