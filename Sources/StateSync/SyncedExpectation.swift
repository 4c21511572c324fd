import Conntrack
import IPAddressing

/// An expectation as conntrackd sends it (spec §2.6).
public struct SyncedExpectation: Hashable, Sendable {
    public struct Tuple: Hashable, Sendable {
        public var source: IPAddress
        public var destination: IPAddress
        public var protocolNumber: UInt8?
        public var ports: SyncPorts?
        public init(source: IPAddress, destination: IPAddress, protocolNumber: UInt8? = nil, ports: SyncPorts? = nil) {
            self.source = source
            self.destination = destination
            self.protocolNumber = protocolNumber
            self.ports = ports
        }
    }

    public var master: Tuple?
    public var expected: Tuple?
    public var mask: Tuple?
    public var timeout: UInt32?
    public var flags: UInt32?
    public var expectationClass: UInt32?
    public var nat: Tuple?
    public var natDirection: UInt32?
    public var helper: String?
    public var function: String?

    public init() {}
}

public enum SyncedExpectationCodec {
    typealias A = SyncAttribute.Expectation

    public static func encode(_ x: SyncedExpectation, into out: inout [UInt8]) {
        var w = SyncTLVWriter(bytes: out)
        out = []
        func tuple(_ t: SyncedExpectation.Tuple?, v4: UInt16, v6: UInt16, proto: UInt16, port: UInt16) {
            guard let t else { return }
            w.addresses(t.source.family == AddressFamily.inet ? v4 : v6, IPAddressPair(source: t.source, destination: t.destination))
            if let p = t.protocolNumber { w.u8(proto, p) }
            if let p = t.ports { w.ports(port, p) }
        }
        tuple(x.master, v4: A.masterIPv4, v6: A.masterIPv6, proto: A.masterL4proto, port: A.masterPort)
        tuple(x.expected, v4: A.expectIPv4, v6: A.expectIPv6, proto: A.expectL4proto, port: A.expectPort)
        tuple(x.mask, v4: A.maskIPv4, v6: A.maskIPv6, proto: A.maskL4proto, port: A.maskPort)
        if let v = x.timeout { w.be32(A.timeout, v) }
        if let v = x.flags { w.be32(A.flags, v) }
        if let v = x.expectationClass { w.be32(A.class, v) }
        if let n = x.nat {
            if n.source.family == AddressFamily.inet { w.addresses(A.natIPv4, IPAddressPair(source: n.source, destination: n.destination)) }
            if let p = n.protocolNumber { w.u8(A.natL4proto, p) }
            if let p = n.ports { w.ports(A.natPort, p) }
        }
        if let d = x.natDirection { w.be32(A.natDir, d) }
        if let h = x.helper { w.string(A.helperName, h) }
        if let f = x.function { w.string(A.function, f) }
        out = w.bytes
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(SyncPayloadError) -> SyncedExpectation {
        var r = SyncTLVReader(bytes: bytes, position: range.lowerBound, end: range.upperBound, sizes: A.sizes)
        var x = SyncedExpectation()
        func setPair(_ t: inout SyncedExpectation.Tuple?, _ pair: (IPAddress, IPAddress)) {
            if t == nil { t = .init(source: pair.0, destination: pair.1) } else { t!.source = pair.0; t!.destination = pair.1 }
        }
        // Protocol and ports may arrive before the addresses; hold them until the end.
        var pending: [UInt16: (UInt8?, SyncPorts?)] = [:]
        while let t = try r.next() {
            switch t.type {
            case A.masterIPv4: setPair(&x.master, r.pair(t, size: 4))
            case A.masterIPv6: setPair(&x.master, r.pair(t, size: 16))
            case A.expectIPv4: setPair(&x.expected, r.pair(t, size: 4))
            case A.expectIPv6: setPair(&x.expected, r.pair(t, size: 16))
            case A.maskIPv4: setPair(&x.mask, r.pair(t, size: 4))
            case A.maskIPv6: setPair(&x.mask, r.pair(t, size: 16))
            case A.natIPv4: setPair(&x.nat, r.pair(t, size: 4))
            case A.masterL4proto, A.expectL4proto, A.maskL4proto, A.natL4proto:
                pending[t.type, default: (nil, nil)].0 = r.u8(t)
            case A.masterPort, A.expectPort, A.maskPort, A.natPort:
                pending[t.type, default: (nil, nil)].1 = r.ports(t)
            case A.timeout: x.timeout = r.be32(t)
            case A.flags: x.flags = r.be32(t)
            case A.class: x.expectationClass = r.be32(t)
            case A.natDir: x.natDirection = r.be32(t)
            case A.helperName: x.helper = try r.string(t)
            case A.function: x.function = try r.string(t)
            default: throw .unknownAttribute(type: t.type)
            }
        }
        func apply(_ t: inout SyncedExpectation.Tuple?, proto: UInt16, port: UInt16) {
            guard t != nil else { return }
            if let p = pending[proto]?.0 { t!.protocolNumber = p }
            if let p = pending[port]?.1 { t!.ports = p }
        }
        apply(&x.master, proto: A.masterL4proto, port: A.masterPort)
        apply(&x.expected, proto: A.expectL4proto, port: A.expectPort)
        apply(&x.mask, proto: A.maskL4proto, port: A.maskPort)
        apply(&x.nat, proto: A.natL4proto, port: A.natPort)
        return x
    }
}
