import IPAddressing

/// conntrack(8) 1.4.7's `-o save`: each flow as the options that recreate it (`-A …`),
/// which `conntrack -R` reads back. The order and the set of options are conntrack's
/// (src/conntrack.c `ct_save_snprintf` and each protocol's print options): the mark and
/// the labels are not saved by 1.4.7, so they are not here either.
public struct FlowSavePrinter: Sendable {
    public init() {}

    /// The status bits conntrack saves, in bit order, with its names.
    static let savedStatus: [(FlowStatus, StaticString)] = [
        (.expected, "EXPECTED"), (.seenReply, "SEEN_REPLY"), (.assured, "ASSURED"), (.fixedTimeout, "FIXED_TIMEOUT"),
    ]

    /// The line for `flow` (without the newline); nil for a family conntrack cannot save
    /// (it warns "unsupported l3proto" and prints nothing).
    public func format(_ flow: Flow, event: FlowPrinter.EventKind = .new) -> String? {
        guard let o = flow.original, o.family == AddressFamily.inet || o.family == AddressFamily.inet6 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(200)
        func option(_ name: StaticString, _ value: some BinaryInteger) {
            TextBuffer.append(name, to: &out)
            out.append(32)
            TextBuffer.decimal(value, to: &out)
            out.append(32)
        }
        func option(_ name: StaticString, _ value: IPAddress) {
            TextBuffer.append(name, to: &out)
            out.append(32)
            TextBuffer.address(value, to: &out)
            out.append(32)
        }
        func option(_ name: StaticString, _ value: String) {
            TextBuffer.append(name, to: &out)
            out.append(32)
            TextBuffer.append(value, to: &out)
            out.append(32)
        }
        switch event {
        case .new: TextBuffer.append("-A ", to: &out)
        case .update: TextBuffer.append("-U ", to: &out)
        case .destroy: TextBuffer.append("-D ", to: &out)
        }
        if let t = flow.timeout { option("-t", t) }
        if let s = flow.status {
            let names = Self.savedStatus.filter { s.contains($0.0) }.map { "\($0.1)" }
            option("-u", names.isEmpty ? "UNSET" : names.joined(separator: ","))
        }
        if let m = flow.secmark { option("-c", m) }
        if let z = flow.zone { option("-w", z) }
        if let z = o.zone { option("--orig-zone", z) }
        if let z = flow.reply?.zone { option("--reply-zone", z) }
        option("-s", o.source)
        option("-d", o.destination)
        if let r = flow.reply {
            // libnetfilter_conntrack's "is DNAT/SNAT" compares the first 32 bits of the
            // addresses only (its union's v4 member), and wants the NAT-done bit.
            let status = flow.status ?? []
            let dnat = (flow.status == nil || status.contains(.destinationNATDone)) && Self.first32(r.source) != Self.first32(o.destination)
            let snat = (flow.status == nil || status.contains(.sourceNATDone)) && Self.first32(r.destination) != Self.first32(o.source)
            option(dnat ? "-g" : "-r", r.source)
            option(snat ? "-n" : "-q", r.destination)
        }
        let reply = flow.reply
        switch o.protocolNumber {
        case IPProtocolNumber.dccp:
            // libnetfilter_conntrack 1.0.9 reads neither DCCP's ports nor its state back
            // from the kernel, so conntrack 1.4.7 saves a DCCP flow as `-p dccp' alone.
            TextBuffer.append("-p dccp ", to: &out)
        case IPProtocolNumber.tcp, IPProtocolNumber.udp, IPProtocolNumber.udplite, IPProtocolNumber.sctp:
            TextBuffer.append("-p ", to: &out)
            TextBuffer.append(FlowPrinter.protocolName(o.protocolNumber), to: &out)
            out.append(32)
            if let p = o.sourcePort { option("--sport", p) }
            if let p = o.destinationPort { option("--dport", p) }
            if let p = reply?.sourcePort { option("--reply-port-src", p) }
            if let p = reply?.destinationPort { option("--reply-port-dst", p) }
            switch flow.protocolInfo {
            case .tcp(let i)?:
                if let s = i.state { option("--state", TCPState.names.indices.contains(Int(s.rawValue)) ? TCPState.names[Int(s.rawValue)] : "NONE") }
            case .sctp(let i)?:
                if let s = i.state { option("--state", SCTPInfo.stateName(s)) }
                // The tags go through byte-swapped both ways, as `-I` writes them.
                if let v = i.verificationTagOriginal { option("--orig-vtag", v.byteSwapped) }
                if let v = i.verificationTagReply { option("--reply-vtag", v.byteSwapped) }
            default: break
            }
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            let v6 = o.protocolNumber == IPProtocolNumber.icmpv6
            TextBuffer.append(v6 ? "-p icmpv6 " : "-p icmp ", to: &out)
            if let t = o.icmpType { option(v6 ? "--icmpv6-type" : "--icmp-type", t) }
            if let c = o.icmpCode { option(v6 ? "--icmpv6-code" : "--icmp-code", c) }
            if let i = o.icmpID { option(v6 ? "--icmpv6-id" : "--icmp-id", i) }
        case IPProtocolNumber.gre:
            TextBuffer.append("-p gre ", to: &out)
            if let k = o.sourcePort { option("--srckey", k) }
            if let k = o.destinationPort { option("--dstkey", k) }
            if let k = reply?.sourcePort { option("--reply-key-src", k) }
            if let k = reply?.destinationPort { option("--reply-key-dst", k) }
        default:
            option("-p", o.protocolNumber)
        }
        while out.last == 32 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    static func first32(_ a: IPAddress) -> UInt32 {
        switch a {
        case .v4(let v): v
        case .v6(let high, _): UInt32(truncatingIfNeeded: high >> 32)
        }
    }
}
