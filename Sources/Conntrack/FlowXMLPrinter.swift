#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// conntrack(8)'s `-o xml` rendering of a flow (libnetfilter_conntrack's XML output),
/// including its quirk of naming SCTP and DCCP states from the TCP table.
public struct FlowXMLPrinter: Sendable {
    public static let header = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<conntrack>"
    public static let footer = "</conntrack>"

    public var showTimestamps = false
    /// As FlowPrinter's: labels are shown only with the names loaded.
    public var labelMap: ConnectionLabelMap?
    public var now: @Sendable () -> Int64 = { Int64(time(nil)) }

    public init(showTimestamps: Bool = false) { self.showTimestamps = showTimestamps }

    /// `when`: an event's `<when>` (conntrack's `-E -o xml,timestamp`), the local time of
    /// printing, after the flow's last meta element.
    public func format(_ flow: Flow, event: FlowPrinter.EventKind? = nil, when: tm? = nil) -> String {
        var out: [UInt8] = []
        append(flow, event: event, when: when, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `emptyReply`: conntrackd's rendering of a flow without a reply tuple (its external
    /// cache): an empty reply block instead of none.
    public func append(_ flow: Flow, event: FlowPrinter.EventKind? = nil, emptyReply: Bool = false, when: tm? = nil, to out: inout [UInt8]) {
        switch event {
        case .new?: TextBuffer.append("<flow type=\"new\">", to: &out)
        case .update?: TextBuffer.append("<flow type=\"update\">", to: &out)
        case .destroy?: TextBuffer.append("<flow type=\"destroy\">", to: &out)
        case nil: TextBuffer.append("<flow>", to: &out)
        }
        let hasCounters = flow.countersOriginal != nil
        if let o = flow.original { tuple(o, direction: "original", counters: hasCounters ? flow.countersOriginal : nil, to: &out) }
        if let r = flow.reply {
            tuple(r, direction: "reply", counters: hasCounters ? (flow.countersReply ?? Counters(packets: 0, bytes: 0)) : nil, to: &out)
        } else if emptyReply {
            TextBuffer.append("<meta direction=\"reply\"><layer3 protonum=\"0\" protoname=\"unknown\"><src></src><dst></dst></layer3>", to: &out)
            TextBuffer.append("<layer4 protonum=\"0\" protoname=\"unknown\"></layer4></meta>", to: &out)
        }
        var state: UInt8?
        switch flow.protocolInfo {
        case .tcp(let i)?: state = i.state?.rawValue
        case .sctp(let i)?: state = i.state
        case .dccp(let i)?: state = i.state
        case nil: break
        }
        let independent = state != nil || flow.timeout != nil || flow.mark != nil || flow.secmark != nil || flow.zone != nil
            || flow.use != nil || flow.status != nil || flow.id != nil || flow.labels != nil || flow.timestamp != nil
        if independent { TextBuffer.append("<meta direction=\"independent\">", to: &out) }
        if let s = state {
            TextBuffer.append("<state>", to: &out); TextBuffer.append(TCPState(rawValue: s).description, to: &out)
            TextBuffer.append("</state>", to: &out)
        }
        element("timeout", flow.timeout, to: &out)
        element("mark", flow.mark, to: &out)
        element("secmark", flow.secmark, to: &out)
        if let c = flow.securityContext {
            TextBuffer.append("<secctx>", to: &out); TextBuffer.append(c, to: &out); TextBuffer.append("</secctx>", to: &out)
        }
        element("zone", flow.zone, to: &out)
        if let map = labelMap, let bitmap = flow.labels, bitmap.contains(where: { $0 != 0 }) {
            TextBuffer.append("<labels>", to: &out)
            for name in map.names(in: bitmap) {
                TextBuffer.append("<label>", to: &out); TextBuffer.append(name, to: &out); TextBuffer.append("</label>", to: &out)
            }
            TextBuffer.append("</labels>", to: &out)
        }
        element("use", flow.use, to: &out)
        element("id", flow.id, to: &out)
        if let s = flow.status {
            if s.contains(.assured) { TextBuffer.append("<assured/>", to: &out) }
            if !s.contains(.seenReply) { TextBuffer.append("<unreplied/>", to: &out) }
        }
        if let ts = flow.timestamp {
            if showTimestamps && (ts.start != nil || ts.stop != nil) {
                TextBuffer.append("<timestamp>", to: &out)
                element("start", ts.start, to: &out)
                element("stop", ts.stop, to: &out)
                TextBuffer.append("</timestamp>", to: &out)
            }
            if let start = ts.start {
                let end = ts.stop.map { Int64($0 / 1_000_000_000) } ?? now()
                element("deltatime", UInt64(bitPattern: end - Int64(start / 1_000_000_000)), to: &out)
            }
        }
        if independent { TextBuffer.append("</meta>", to: &out) }
        if let h = flow.helper {
            TextBuffer.append("<helper>", to: &out); TextBuffer.append(h.name, to: &out); TextBuffer.append("</helper>", to: &out)
        }
        if let t = when { TextBuffer.append(XMLWhenElement.text(t), to: &out) }
        TextBuffer.append("</flow>", to: &out)
    }

    func tuple(_ t: Tuple, direction: StaticString, counters: Counters?, to out: inout [UInt8]) {
        TextBuffer.append("<meta direction=\"", to: &out); TextBuffer.append(direction, to: &out); TextBuffer.append("\">", to: &out)
        TextBuffer.append("<layer3 protonum=\"", to: &out); TextBuffer.decimal(t.family, to: &out)
        TextBuffer.append("\" protoname=\"", to: &out); TextBuffer.append(FlowPrinter.layer3Name(t.family), to: &out)
        TextBuffer.append("\"><src>", to: &out); TextBuffer.address(t.source, to: &out)
        TextBuffer.append("</src><dst>", to: &out); TextBuffer.address(t.destination, to: &out)
        TextBuffer.append("</dst></layer3>", to: &out)
        TextBuffer.append("<layer4 protonum=\"", to: &out); TextBuffer.decimal(t.protocolNumber, to: &out)
        TextBuffer.append("\" protoname=\"", to: &out); TextBuffer.append(FlowPrinter.protocolName(t.protocolNumber), to: &out)
        TextBuffer.append("\">", to: &out)
        switch t.protocolNumber {
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.udplite, IPProtocolNumber.sctp, IPProtocolNumber.dccp:
            element("sport", t.sourcePort ?? 0, to: &out)
            element("dport", t.destinationPort ?? 0, to: &out)
        case IPProtocolNumber.gre:
            TextBuffer.append("<srckey>0x", to: &out); TextBuffer.hex(t.sourcePort ?? 0, to: &out); TextBuffer.append("</srckey>", to: &out)
            TextBuffer.append("<dstkey>0x", to: &out); TextBuffer.hex(t.destinationPort ?? 0, to: &out); TextBuffer.append("</dstkey>", to: &out)
        default:
            break
        }
        TextBuffer.append("</layer4>", to: &out)
        element("zone", t.zone, to: &out)
        if let c = counters {
            TextBuffer.append("<counters>", to: &out)
            element("packets", c.packets, to: &out)
            element("bytes", c.bytes, to: &out)
            TextBuffer.append("</counters>", to: &out)
        }
        TextBuffer.append("</meta>", to: &out)
    }

    func element<T: BinaryInteger>(_ name: String, _ value: T?, to out: inout [UInt8]) {
        guard let value else { return }
        out.append(60); TextBuffer.append(name, to: &out); out.append(62)
        TextBuffer.decimal(value, to: &out)
        out.append(60); out.append(47); TextBuffer.append(name, to: &out); out.append(62)
    }
}
