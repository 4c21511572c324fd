#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// Renders flows exactly as conntrack(8) 1.4.7 (libnetfilter_conntrack's default format)
/// does, so `tandem conntrack -L` and later `tandem conntrackd -i` match byte for byte.
public struct FlowPrinter: Sendable {
    public enum EventKind: Sendable {
        case new, update, destroy

        var label: StaticString {
            switch self {
            case .new: "    [NEW] "
            case .update: " [UPDATE] "
            case .destroy: "[DESTROY] "
            }
        }
    }

    /// `-o extended`: the layer-3 name and number first.
    public var showLayer3 = false
    /// `-o id`
    public var showID = false
    /// `-o ktimestamp`: absolute start/stop times.
    public var showTimestamps = false
    /// Label names, given once conntrack would have loaded them (`-o labels`, `-l`,
    /// `--label-add`, `--label-del`): only then are labels shown.
    public var labelMap: ConnectionLabelMap?
    /// Seconds since the epoch for delta-time of live flows; injected so tests are stable.
    public var now: @Sendable () -> Int64 = { Int64(time(nil)) }

    public init(showLayer3: Bool = false, showID: Bool = false, showTimestamps: Bool = false) {
        self.showLayer3 = showLayer3
        self.showID = showID
        self.showTimestamps = showTimestamps
    }

    public static func protocolName(_ n: UInt8) -> StaticString {
        switch n {
        case IPProtocolNumber.tcp: "tcp"
        case IPProtocolNumber.udp: "udp"
        case IPProtocolNumber.udplite: "udplite"
        case IPProtocolNumber.icmp: "icmp"
        case IPProtocolNumber.icmpv6: "icmpv6"
        case IPProtocolNumber.sctp: "sctp"
        case IPProtocolNumber.gre: "gre"
        case IPProtocolNumber.dccp: "dccp"
        default: "unknown"
        }
    }

    public static func layer3Name(_ family: UInt8) -> StaticString {
        switch family {
        case AddressFamily.inet: "ipv4"
        case AddressFamily.inet6: "ipv6"
        default: "unknown"
        }
    }

    public func format(_ flow: Flow, event: EventKind? = nil) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(flow, event: event, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the line for `flow`, without a newline.
    public func append(_ flow: Flow, event: EventKind? = nil, to out: inout [UInt8]) {
        let start = out.count
        if let event { TextBuffer.append(event.label, to: &out) }
        let family = flow.original?.family ?? flow.family
        if showLayer3 {
            TextBuffer.padded(Self.layer3Name(family), 8, to: &out)
            out.append(32); TextBuffer.decimal(family, to: &out); out.append(32)
        }
        let proto = flow.original?.protocolNumber ?? 0
        TextBuffer.padded(Self.protocolName(proto), 8, to: &out)
        out.append(32); TextBuffer.decimal(proto, to: &out); out.append(32)
        if let t = flow.timeout { TextBuffer.decimal(t, to: &out); out.append(32) }
        switch flow.protocolInfo {
        case .tcp(let i)? where i.state != nil:
            TextBuffer.append(i.state!.description, to: &out); out.append(32)
        case .sctp(let i)? where i.state != nil:
            TextBuffer.append(SCTPInfo.stateName(i.state!), to: &out); out.append(32)
        // libnetfilter_conntrack names DCCP states from its SCTP table; kept for parity.
        case .dccp(let i)? where i.state != nil:
            TextBuffer.append(SCTPInfo.stateName(i.state!), to: &out); out.append(32)
        default: break
        }
        if let o = flow.original {
            Self.appendTuple(o, to: &out)
            if let z = o.zone { TextBuffer.append("zone-orig=", to: &out); TextBuffer.decimal(z, to: &out); out.append(32) }
        }
        if let c = flow.countersOriginal { Self.appendCounters(c, to: &out) }
        if let s = flow.status, !s.contains(.seenReply) { TextBuffer.append("[UNREPLIED] ", to: &out) }
        if let r = flow.reply {
            Self.appendTuple(r, to: &out)
            if let z = r.zone { TextBuffer.append("zone-reply=", to: &out); TextBuffer.decimal(z, to: &out); out.append(32) }
        }
        if let c = flow.countersReply { Self.appendCounters(c, to: &out) }
        if let s = flow.status {
            if s.contains(.hardwareOffload) { TextBuffer.append("[HW_OFFLOAD] ", to: &out) }
            else if s.contains(.offload) { TextBuffer.append("[OFFLOAD] ", to: &out) }
            else if s.contains(.assured) { TextBuffer.append("[ASSURED] ", to: &out) }
        }
        if let m = flow.mark { TextBuffer.append("mark=", to: &out); TextBuffer.decimal(m, to: &out); out.append(32) }
        if let s = flow.secmark { TextBuffer.append("secmark=", to: &out); TextBuffer.decimal(s, to: &out); out.append(32) }
        if let s = flow.securityContext { TextBuffer.append("secctx=", to: &out); TextBuffer.append(s, to: &out); out.append(32) }
        if let z = flow.zone { TextBuffer.append("zone=", to: &out); TextBuffer.decimal(z, to: &out); out.append(32) }
        if let ts = flow.timestamp, let start = ts.start {
            let stop = ts.stop.map { Int64($0 / 1_000_000_000) } ?? now()
            let delta = stop - Int64(start / 1_000_000_000)
            TextBuffer.append("delta-time=", to: &out); TextBuffer.decimal(UInt64(bitPattern: delta), to: &out); out.append(32)
            if showTimestamps {
                TextBuffer.append("[start=", to: &out); TextBuffer.append(Self.ctime(Int64(start / 1_000_000_000)), to: &out)
                TextBuffer.append("] ", to: &out)
                if let s = ts.stop {
                    TextBuffer.append("[stop=", to: &out); TextBuffer.append(Self.ctime(Int64(s / 1_000_000_000)), to: &out)
                    TextBuffer.append("] ", to: &out)
                }
            }
        }
        if let h = flow.helper { TextBuffer.append("helper=", to: &out); TextBuffer.append(h.name, to: &out); out.append(32) }
        if let u = flow.use { TextBuffer.append("use=", to: &out); TextBuffer.decimal(u, to: &out); out.append(32) }
        if showID, let id = flow.id { TextBuffer.append("id=", to: &out); TextBuffer.decimal(id, to: &out); out.append(32) }
        if let map = labelMap, let bitmap = flow.labels, bitmap.contains(where: { $0 != 0 }) {
            // As the library writes it: "labels=" and each name with a comma, the last
            // character then dropped, so a flow whose bits have no names shows "labels".
            TextBuffer.append("labels=", to: &out)
            for name in map.names(in: bitmap) { TextBuffer.append(name, to: &out); out.append(UInt8(ascii: ",")) }
            out.removeLast()
            out.append(32)
        }
        if out.count > start, out.last == 32 { out.removeLast() }
    }

    static func appendCounters(_ c: Counters, to out: inout [UInt8]) {
        TextBuffer.append("packets=", to: &out); TextBuffer.decimal(c.packets, to: &out)
        TextBuffer.append(" bytes=", to: &out); TextBuffer.decimal(c.bytes, to: &out); out.append(32)
    }

    static func appendTuple(_ t: Tuple, to out: inout [UInt8]) {
        appendAddresses(t, prefix: "", to: &out)
        appendProtocolPart(t, to: &out)
    }

    static func appendAddresses(_ t: Tuple, prefix: StaticString, to out: inout [UInt8]) {
        TextBuffer.append(prefix, to: &out); TextBuffer.append("src=", to: &out); TextBuffer.address(t.source, to: &out)
        out.append(32)
        TextBuffer.append(prefix, to: &out); TextBuffer.append("dst=", to: &out); TextBuffer.address(t.destination, to: &out)
        out.append(32)
    }

    static func appendProtocolPart(_ t: Tuple, to out: inout [UInt8]) {
        switch t.protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.udplite, IPProtocolNumber.sctp, IPProtocolNumber.dccp:
            TextBuffer.append("sport=", to: &out); TextBuffer.decimal(t.sourcePort ?? 0, to: &out)
            TextBuffer.append(" dport=", to: &out); TextBuffer.decimal(t.destinationPort ?? 0, to: &out); out.append(32)
        case IPProtocolNumber.gre:
            TextBuffer.append("srckey=0x", to: &out); TextBuffer.hex(t.sourcePort ?? 0, to: &out)
            TextBuffer.append(" dstkey=0x", to: &out); TextBuffer.hex(t.destinationPort ?? 0, to: &out); out.append(32)
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            TextBuffer.append("type=", to: &out); TextBuffer.decimal(t.icmpType ?? 0, to: &out)
            TextBuffer.append(" code=", to: &out); TextBuffer.decimal(t.icmpCode ?? 0, to: &out)
            TextBuffer.append(" id=", to: &out); TextBuffer.decimal(t.icmpID ?? 0, to: &out); out.append(32)
        default:
            break
        }
    }

    static func ctime(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var buffer = [CChar](repeating: 0, count: 64)
        guard ctime_r(&t, &buffer) != nil else { return "" }
        var s = String(nulTerminated: buffer)
        if s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
