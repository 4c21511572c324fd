import Netlink

/// Expectation ↔ ctnetlink attributes (the IPCTNL_MSG_EXP_* family).
public enum ExpectationCodec {
    public static func decode(
        _ bytes: [UInt8], payload: Range<Int>, unknown: UnknownAttributePolicy = .lenient
    ) throws(NetlinkDecodingError) -> Expectation {
        try NetfilterHeader.withAttributes(bytes, payload) { (d, family) throws(NetlinkDecodingError) in
            try decodeAttributes(&d, family: family, unknown: unknown)
        }
    }

    static func decodeAttributes(
        _ d: inout AttributeDecoder, family: UInt8, unknown: UnknownAttributePolicy
    ) throws(NetlinkDecodingError) -> Expectation {
        var x = Expectation(family: family)
        while let a = d.next() {
            switch a.type {
            case CTA.Expect.master: x.master = FlowCodec.decodeTuple(&d, a, unknown)
            case CTA.Expect.tuple: x.tuple = FlowCodec.decodeTuple(&d, a, unknown)
            case CTA.Expect.mask: x.mask = decodeMask(&d, a, unknown)
            case CTA.Expect.timeout: x.timeout = d.uint32BE(a)
            case CTA.Expect.id: x.id = d.uint32BE(a)
            case CTA.Expect.helpName: x.helperName = d.string(a)
            case CTA.Expect.zone: x.zone = d.uint16BE(a)
            case CTA.Expect.flags: x.flags = ExpectationFlags(rawValue: d.uint32BE(a))
            case CTA.Expect.class: x.expectationClass = d.uint32BE(a)
            case CTA.Expect.fn: x.function = d.string(a)
            case CTA.Expect.nat:
                var n = d.nested(a)
                var dir: UInt32 = 0
                var t: Tuple?
                while let c = n.next() {
                    switch c.type {
                    case CTA.ExpectNAT.dir: dir = n.uint32BE(c)
                    case CTA.ExpectNAT.tuple: t = FlowCodec.decodeTuple(&n, c, unknown)
                    default: FlowCodec.other(&n, c, unknown, "expect-nat")
                    }
                }
                d.absorb(n)
                if let t { x.nat = ExpectationNAT(direction: dir, tuple: t) }
            default: FlowCodec.other(&d, a, unknown, "expect")
            }
        }
        if let e = d.error { throw e }
        return x
    }

    /// A mask tuple may carry only some fields (a wildcard address family has no address),
    /// so it is decoded without the tuple's presence checks.
    static func decodeMask(_ d: inout AttributeDecoder, _ a: Attribute, _ u: UnknownAttributePolicy) -> Tuple? {
        FlowCodec.decodeTuple(&d, a, u)
    }

    public static func encode(_ x: Expectation, into e: inout AttributeEncoder) {
        // libnetfilter_conntrack's order: the expected tuple before its master.
        NetfilterHeader(family: x.family).encode(into: &e)
        if let t = x.tuple { FlowCodec.encodeTuple(t, type: CTA.Expect.tuple, into: &e) }
        if let t = x.master { FlowCodec.encodeTuple(t, type: CTA.Expect.master, into: &e) }
        if let t = x.mask { FlowCodec.encodeTuple(t, type: CTA.Expect.mask, into: &e) }
        if let t = x.timeout { e.uint32BE(CTA.Expect.timeout, t) }
        if let z = x.zone { e.uint16BE(CTA.Expect.zone, z) }
        if let f = x.flags { e.uint32BE(CTA.Expect.flags, f.rawValue) }
        if let c = x.expectationClass { e.uint32BE(CTA.Expect.class, c) }
        if let h = x.helperName { e.string(CTA.Expect.helpName, h) }
        if let n = x.nat {
            e.nested(CTA.Expect.nat) { m in
                m.uint32BE(CTA.ExpectNAT.dir, n.direction)
                FlowCodec.encodeTuple(n.tuple, type: CTA.ExpectNAT.tuple, into: &m)
            }
        }
        if let f = x.function { e.string(CTA.Expect.fn, f) }
    }
}

/// conntrack(8)'s expectation line.
public struct ExpectationPrinter: Sendable {
    public init() {}

    public func format(_ x: Expectation, event: FlowPrinter.EventKind? = nil) -> String {
        var out: [UInt8] = []
        append(x, event: event, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func append(_ x: Expectation, event: FlowPrinter.EventKind? = nil, to out: inout [UInt8]) {
        let start = out.count
        if let event { TextBuffer.append(event.label, to: &out) }
        TextBuffer.decimal(x.timeout ?? 0, to: &out)
        TextBuffer.append(" proto=", to: &out); TextBuffer.decimal(x.tuple?.protocolNumber ?? 0, to: &out); out.append(32)
        if let t = x.tuple { FlowPrinter.appendTuple(t, to: &out) }
        if let m = x.mask {
            FlowPrinter.appendAddresses(m, prefix: "mask-", to: &out)
            FlowPrinter.appendProtocolPart(m, to: &out)
        }
        if let m = x.master {
            FlowPrinter.appendAddresses(m, prefix: "master-", to: &out)
            FlowPrinter.appendProtocolPart(m, to: &out)
        }
        if let z = x.zone { TextBuffer.append("zone=", to: &out); TextBuffer.decimal(z, to: &out); out.append(32) }
        var wroteFlag = false
        if let f = x.flags {
            for (bit, name) in [(ExpectationFlags.permanent, "PERMANENT" as StaticString), (.inactive, "INACTIVE"), (.userspace, "USERSPACE")]
            where f.contains(bit) {
                if wroteFlag { out.append(44) }
                TextBuffer.append(name, to: &out)
                wroteFlag = true
            }
            if wroteFlag { out.append(32) }
        }
        if let c = x.expectationClass { TextBuffer.append("class=", to: &out); TextBuffer.decimal(c, to: &out); out.append(32) }
        if let h = x.helperName, !h.isEmpty { TextBuffer.append("helper=", to: &out); TextBuffer.append(h, to: &out); out.append(32) }
        if out.count > start, out.last == 32 { out.removeLast() }
    }
}
