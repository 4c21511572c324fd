#if canImport(Glibc)
import Glibc
#endif

/// Renders flows exactly as conntrack(8) 1.4.7 (libnetfilter_conntrack's default format)
/// does, so `tandem conntrack -L` and later `tandem conntrackd -i` match byte for byte.
public struct FlowPrinter: Sendable {
    public enum EventKind: Sendable {
        case new, update, destroy

        var label: String {
            switch self {
            case .new: "[NEW]"
            case .update: "[UPDATE]"
            case .destroy: "[DESTROY]"
            }
        }
    }

    /// `-o extended`: the layer-3 name and number first.
    public var showLayer3 = false
    /// `-o id`
    public var showID = false
    /// `-o timestamp`: absolute start/stop times.
    public var showTimestamps = false
    /// Seconds since the epoch for delta-time of live flows; injected so tests are stable.
    public var now: @Sendable () -> Int64 = { Int64(time(nil)) }

    public init(showLayer3: Bool = false, showID: Bool = false, showTimestamps: Bool = false) {
        self.showLayer3 = showLayer3
        self.showID = showID
        self.showTimestamps = showTimestamps
    }

    public static func protocolName(_ n: UInt8) -> String {
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

    public static func layer3Name(_ family: UInt8) -> String {
        switch family {
        case AddressFamily.inet: "ipv4"
        case AddressFamily.inet6: "ipv6"
        default: "unknown"
        }
    }

    static func padded(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    public func format(_ flow: Flow, event: EventKind? = nil) -> String {
        var out = ""
        out.reserveCapacity(200)
        if let event {
            let label = event.label
            out += String(repeating: " ", count: max(0, 9 - label.count)) + label + " "
        }
        let family = flow.original?.family ?? flow.family
        if showLayer3 {
            out += Self.padded(Self.layer3Name(family), 8) + " \(family) "
        }
        let proto = flow.original?.protocolNumber ?? 0
        out += Self.padded(Self.protocolName(proto), 8) + " \(proto) "
        if let t = flow.timeout { out += "\(t) " }
        switch flow.protocolInfo {
        case .tcp(let i)? where i.state != nil: out += "\(i.state!) "
        case .sctp(let i)? where i.state != nil: out += SCTPInfo.stateName(i.state!) + " "
        // libnetfilter_conntrack names DCCP states from its SCTP table; kept for parity.
        case .dccp(let i)? where i.state != nil: out += SCTPInfo.stateName(i.state!) + " "
        default: break
        }
        if let o = flow.original {
            Self.appendTuple(o, to: &out)
            if let z = o.zone { out += "zone-orig=\(z) " }
        }
        if let c = flow.countersOriginal { out += "packets=\(c.packets) bytes=\(c.bytes) " }
        if let s = flow.status, !s.contains(.seenReply) { out += "[UNREPLIED] " }
        if let r = flow.reply {
            Self.appendTuple(r, to: &out)
            if let z = r.zone { out += "zone-reply=\(z) " }
        }
        if let c = flow.countersReply { out += "packets=\(c.packets) bytes=\(c.bytes) " }
        if let s = flow.status {
            if s.contains(.hardwareOffload) { out += "[HW_OFFLOAD] " }
            else if s.contains(.offload) { out += "[OFFLOAD] " }
            else if s.contains(.assured) { out += "[ASSURED] " }
        }
        if let m = flow.mark { out += "mark=\(m) " }
        if let s = flow.secmark { out += "secmark=\(s) " }
        if let s = flow.securityContext { out += "secctx=\(s) " }
        if let z = flow.zone { out += "zone=\(z) " }
        if let ts = flow.timestamp, let start = ts.start {
            let stop = ts.stop.map { Int64($0 / 1_000_000_000) } ?? now()
            let delta = stop - Int64(start / 1_000_000_000)
            out += "delta-time=\(UInt64(bitPattern: delta)) "
            if showTimestamps {
                out += "[start=\(Self.ctime(Int64(start / 1_000_000_000)))] "
                if let s = ts.stop { out += "[stop=\(Self.ctime(Int64(s / 1_000_000_000)))] " }
            }
        }
        if let h = flow.helper { out += "helper=\(h.name) " }
        if let u = flow.use { out += "use=\(u) " }
        if showID, let id = flow.id { out += "id=\(id) " }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }

    static func appendTuple(_ t: Tuple, to out: inout String) {
        out += "src=\(t.source) dst=\(t.destination) "
        appendProtocolPart(t, to: &out)
    }

    static func appendProtocolPart(_ t: Tuple, to out: inout String) {
        switch t.protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.udplite, IPProtocolNumber.sctp, IPProtocolNumber.dccp:
            out += "sport=\(t.sourcePort ?? 0) dport=\(t.destinationPort ?? 0) "
        case IPProtocolNumber.gre:
            out += "srckey=0x\(String(t.sourcePort ?? 0, radix: 16)) dstkey=0x\(String(t.destinationPort ?? 0, radix: 16)) "
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            out += "type=\(t.icmpType ?? 0) code=\(t.icmpCode ?? 0) id=\(t.icmpID ?? 0) "
        default:
            break
        }
    }

    static func ctime(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var buffer = [CChar](repeating: 0, count: 64)
        guard ctime_r(&t, &buffer) != nil else { return "" }
        var s = String(cString: buffer)
        if s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
