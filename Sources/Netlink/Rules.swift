/// Adds and removes FIB policy rules over rtnetlink (RTM_NEWRULE / RTM_DELRULE), as
/// keepalived does with `virtual_rules` and `static_rules`.
public final class Rules {
    public static let newRule: UInt16 = 32
    public static let deleteRule: UInt16 = 33
    /// fib_rule_hdr: family, dst_len, src_len, tos, table, two reserved bytes, action, flags (u32).
    static let headerSize = 12
    enum FRA {
        static let destination: UInt16 = 1
        static let source: UInt16 = 2
        static let inputInterface: UInt16 = 3
        static let goto: UInt16 = 4
        static let priority: UInt16 = 6
        static let fwmark: UInt16 = 10
        static let table: UInt16 = 15
        static let fwmask: UInt16 = 16
        static let suppressPrefixLength: UInt16 = 14
        static let outputInterface: UInt16 = 17
        static let uidRange: UInt16 = 20
        static let `protocol`: UInt16 = 21
        static let ipProtocol: UInt16 = 22
        static let sourcePorts: UInt16 = 23
        static let destinationPorts: UInt16 = 24
    }
    /// FIB_RULE_INVERT: `not`.
    static let invertFlag: UInt32 = 2
    /// RTPROT_KEEPALIVED: `ip rule` shows `proto keepalived`.
    public static let protocolKeepalived: UInt8 = 18

    /// One rule in the kernel's terms.
    public struct Rule: Hashable, Sendable {
        /// FR_ACT_*.
        public enum Action: UInt8, Sendable { case table = 1, goto = 2, nop = 3, blackhole = 6, unreachable = 7, prohibit = 8 }
        public var family: UInt8
        public var action: Action
        /// With `.table`; tables past 255 travel in FRA_TABLE.
        public var table: UInt32 = 0
        public var gotoTarget: UInt32 = 0
        /// Network-order bytes; nil = any. `sourceLength` 0 with bytes is a /0 prefix.
        public var source: [UInt8]?
        public var sourceLength: UInt8 = 0
        public var destination: [UInt8]?
        public var destinationLength: UInt8 = 0
        public var tos: UInt8 = 0
        public var invert = false
        public var priority: UInt32?
        public var fwmark: UInt32?
        public var fwmask: UInt32?
        public var inputInterface: String?
        public var outputInterface: String?
        /// nil: no FRA_PROTOCOL (keepalived's `no_track`).
        public var protocolNumber: UInt8?
        public var suppressPrefixLength: UInt32?
        public var uidRange: ClosedRange<UInt32>?
        public var ipProtocol: UInt8?
        public var sourcePorts: ClosedRange<UInt16>?
        public var destinationPorts: ClosedRange<UInt16>?

        public init(family: UInt8, action: Action) {
            self.family = family
            self.action = action
        }
    }

    /// The message for `rule`, as keepalived lays it out: header fields, then source and
    /// destination, preference, mark and mask, interfaces, protocol, goto target.
    public static func append(_ type: UInt16, _ r: Rule, flags: NetlinkFlags, sequence: UInt32, to batch: inout MessageBatch) {
        batch.append(type: type, flags: flags, sequence: sequence) { e in
            let inHeader: UInt8 = r.action == .table && r.table < 256 ? UInt8(r.table) : 0
            e.bytes += [r.family, r.destination == nil ? 0 : r.destinationLength, r.source == nil ? 0 : r.sourceLength, r.tos,
                        inHeader, 0, 0, r.action.rawValue]
            let flags = r.invert ? invertFlag : 0
            e.bytes += [UInt8(flags & 0xff), UInt8((flags >> 8) & 0xff), UInt8((flags >> 16) & 0xff), UInt8(flags >> 24)]
            if r.action == .table && r.table >= 256 { e.uint32Host(FRA.table, r.table) }
            if let s = r.source { e.data(FRA.source, s) }
            if let d = r.destination { e.data(FRA.destination, d) }
            if let p = r.priority { e.uint32Host(FRA.priority, p) }
            if let m = r.fwmark { e.uint32Host(FRA.fwmark, m) }
            if let m = r.fwmask { e.uint32Host(FRA.fwmask, m) }
            if let s = r.suppressPrefixLength { e.uint32Host(FRA.suppressPrefixLength, s) }
            if let i = r.inputInterface { e.string(FRA.inputInterface, i) }
            if let o = r.outputInterface { e.string(FRA.outputInterface, o) }
            if let u = r.uidRange { e.data(FRA.uidRange, hostBytes(u.lowerBound) + hostBytes(u.upperBound)) }
            if let p = r.protocolNumber { e.uint8(FRA.protocol, p) }
            if let p = r.ipProtocol { e.uint8(FRA.ipProtocol, p) }
            if let p = r.sourcePorts { e.data(FRA.sourcePorts, hostBytes(p.lowerBound) + hostBytes(p.upperBound)) }
            if let p = r.destinationPorts { e.data(FRA.destinationPorts, hostBytes(p.lowerBound) + hostBytes(p.upperBound)) }
            if r.action == .goto { e.uint32Host(FRA.goto, r.gotoTarget) }
        }
    }

    static func hostBytes(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }
    static func hostBytes(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }

    /// Reads a rule message (as sent, or as the kernel reports one); attributes Tandem does
    /// not set are skipped, a malformed message is a typed error.
    public static func decode(_ message: [UInt8]) throws(NetlinkDecodingError) -> Rule {
        guard message.count >= NetlinkHeader.size + headerSize else {
            throw .truncatedPayload(type: newRule, needed: NetlinkHeader.size + headerSize, available: message.count)
        }
        let h = NetlinkHeaderCodec.read(message, at: 0)
        guard Int(h.length) >= NetlinkHeader.size + headerSize, Int(h.length) <= message.count else {
            throw .badMessageLength(offset: 0, length: Int(h.length), available: message.count)
        }
        let b = NetlinkHeader.size
        guard let action = Rule.Action(rawValue: message[b + 7]) else { throw .invalidValue("fib_rule_hdr action") }
        var r = Rule(family: message[b], action: action)
        let destinationLength = message[b + 1], sourceLength = message[b + 2]
        r.tos = message[b + 3]
        r.table = UInt32(message[b + 4])
        let flags = UInt32(message[b + 8]) | UInt32(message[b + 9]) << 8 | UInt32(message[b + 10]) << 16 | UInt32(message[b + 11]) << 24
        r.invert = flags & invertFlag != 0
        let attributes = (b + headerSize)..<Int(h.length)
        try AttributeDecoder.withDecoder(message, range: attributes) { (d) throws(NetlinkDecodingError) in
            while let a = d.next() {
                switch a.type {
                case FRA.table: r.table = d.uint32Host(a)
                case FRA.source: r.source = d.data(a); r.sourceLength = sourceLength
                case FRA.destination: r.destination = d.data(a); r.destinationLength = destinationLength
                case FRA.priority: r.priority = d.uint32Host(a)
                case FRA.fwmark: r.fwmark = d.uint32Host(a)
                case FRA.fwmask: r.fwmask = d.uint32Host(a)
                case FRA.inputInterface: r.inputInterface = d.string(a)
                case FRA.outputInterface: r.outputInterface = d.string(a)
                case FRA.protocol: r.protocolNumber = d.uint8(a)
                case FRA.goto: r.gotoTarget = d.uint32Host(a)
                case FRA.suppressPrefixLength: r.suppressPrefixLength = d.uint32Host(a)
                case FRA.ipProtocol: r.ipProtocol = d.uint8(a)
                case FRA.uidRange:
                    let b = d.data(a)
                    guard b.count == 8 else { d.fail(.wrongPayloadSize(attribute: a.type, expected: 8, actual: b.count)); break }
                    let low = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
                    let high = UInt32(b[4]) | UInt32(b[5]) << 8 | UInt32(b[6]) << 16 | UInt32(b[7]) << 24
                    guard low <= high else { d.fail(.invalidValue("FRA_UID_RANGE")); break }
                    r.uidRange = low...high
                case FRA.sourcePorts, FRA.destinationPorts:
                    let b = d.data(a)
                    guard b.count == 4 else { d.fail(.wrongPayloadSize(attribute: a.type, expected: 4, actual: b.count)); break }
                    let low = UInt16(b[0]) | UInt16(b[1]) << 8, high = UInt16(b[2]) | UInt16(b[3]) << 8
                    guard low <= high else { d.fail(.invalidValue("FRA port range")); break }
                    if a.type == FRA.sourcePorts { r.sourcePorts = low...high } else { r.destinationPorts = low...high }
                default: break
                }
            }
            if let e = d.error { throw e }
        }
        if let s = r.source, s.count != (r.family == 10 ? 16 : 4) { throw .invalidValue("FRA_SRC length") }
        if let s = r.destination, s.count != (r.family == 10 ? 16 : 4) { throw .invalidValue("FRA_DST length") }
        return r
    }

    public let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    public init() throws {
        socket = try NetlinkSocket(protocol: NetlinkProtocol.route)
        socket.enableExtendedAcksIfAvailable()
    }

    /// EEXIST when an identical rule is already there (keepalived adds with CREATE|EXCL too).
    public func add(_ r: Rule) throws {
        try send(Self.newRule, [.request, .ack, .create, .excl], r)
    }

    public func remove(_ r: Rule) throws {
        try send(Self.deleteRule, [.request, .ack], r)
    }

    private func send(_ type: UInt16, _ flags: NetlinkFlags, _ r: Rule) throws {
        var batch = MessageBatch()
        Self.append(type, r, flags: flags, sequence: socket.makeSequence(), to: &batch)
        try socket.request(batch, buffer: &buffer)
    }
}
