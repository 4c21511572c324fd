import Conntrack
import IPAddressing

/// Turns parsed conntrack arguments into flows to create or look up, and into the
/// filter a listing, deletion, update or event stream applies.
extension ConntrackArguments {
    /// Protocol identifiers of the original direction.
    func originalTuple() -> Tuple? {
        let src = originalSource?.address ?? replyDestination?.address
        let dst = originalDestination?.address ?? replySource?.address
        guard let src, let dst, let proto = protocolNumber else { return nil }
        var t = Tuple(source: src, destination: dst, protocolNumber: proto)
        fillLayer4(&t, reply: false)
        if let z = originalZone { t.zone = z }
        return t
    }

    func replyTuple(inverting original: Tuple) -> Tuple {
        var t = original.inverted
        if let s = replySource?.address { t.source = s }
        if let d = replyDestination?.address { t.destination = d }
        if let p = replySourcePort { t.sourcePort = p }
        if let p = replyDestinationPort { t.destinationPort = p }
        if original.protocolNumber == IPProtocolNumber.gre {
            t.sourcePort = greReplySourceKey ?? greDestinationKey ?? original.destinationPort
            t.destinationPort = greReplyDestinationKey ?? greSourceKey ?? original.sourcePort
        }
        t.zone = replyZone
        return t
    }

    private func fillLayer4(_ t: inout Tuple, reply: Bool) {
        switch t.protocolNumber {
        case IPProtocolNumber.icmp, IPProtocolNumber.icmpv6:
            t.icmpType = icmpType
            t.icmpCode = icmpCode
            t.icmpID = icmpID
        case IPProtocolNumber.gre:
            t.sourcePort = greSourceKey
            t.destinationPort = greDestinationKey
        default:
            t.sourcePort = sourcePort
            t.destinationPort = destinationPort
        }
    }

    /// conntrack(8) always sends these TCP flags (SACK permitted, be liberal) so a flow
    /// created by hand is not dropped by window tracking.
    private static let tcpCreateFlags = TCPFlags(flags: 0x0a, mask: 0x0a)

    func protocolInfo(includeState: Bool) -> ProtocolInfo? {
        switch protocolNumber {
        case IPProtocolNumber.tcp?:
            return .tcp(TCPInfo(state: includeState ? tcpState : nil, flagsOriginal: Self.tcpCreateFlags, flagsReply: Self.tcpCreateFlags))
        case IPProtocolNumber.sctp? where sctpState != nil || sctpVtagOriginal != nil || sctpVtagReply != nil:
            // conntrack(8) passes the tags through in host order.
            return .sctp(SCTPInfo(state: sctpState, verificationTagOriginal: sctpVtagOriginal.map { $0.byteSwapped },
                                  verificationTagReply: sctpVtagReply.map { $0.byteSwapped }))
        case IPProtocolNumber.dccp? where dccpState != nil || dccpRole != nil:
            return .dccp(DCCPInfo(state: dccpState, role: dccpRole))
        default:
            return nil
        }
    }

    /// The flow `-I` creates.
    public func flowToCreate() -> Flow? {
        guard let o = originalTuple() else { return nil }
        var f = Flow(original: o, reply: replyTuple(inverting: o))
        f.status = status
        if let add = labelsToAdd { f.labels = ConnectionLabelMap.bitmap(add) }
        f.timeout = timeout
        f.mark = mark
        f.protocolInfo = protocolInfo(includeState: true)
        f.zone = zone
        // -I/-A with --src-nat/--dst-nat ADDR: the kernel sets the NAT binding up.
        if let n = sourceNAT ?? anyNAT { f.sourceNAT = NATRange(minimumAddress: n, maximumAddress: n) }
        if let n = destinationNAT ?? anyNAT { f.destinationNAT = NATRange(minimumAddress: n, maximumAddress: n) }
        return f
    }

    /// The request `-G` sends: the original tuple (and zone) only.
    public func flowToGet() -> Flow? {
        guard let o = originalTuple() else { return nil }
        var f = Flow(family: o.family)
        f.original = o
        f.protocolInfo = protocolInfo(includeState: false)
        f.zone = zone
        return f
    }

    /// What `-U` sends for one selected flow, or nil when it would change nothing
    /// (conntrack skips, and does not count, those). `-m VALUE[/MASK]` keeps the bits
    /// outside MASK and flips those of VALUE inside it, `(mark & ~MASK) ^ VALUE`, as
    /// conntrack 1.4.7; `-u` only adds status bits.
    public func updateRequest(for flow: Flow) -> Flow? {
        var f = Flow(family: flow.family)
        f.original = flow.original
        f.reply = flow.reply
        f.zone = flow.zone
        var changed = false
        if let value = mark {
            let new = ((flow.mark ?? 0) & ~(markMask ?? .max)) ^ value
            f.mark = new
            changed = changed || new != (flow.mark ?? 0)
        }
        if let t = timeout {
            f.timeout = t
            changed = changed || t != flow.timeout
        }
        if let s = status {
            let merged = (flow.status ?? []).union(s)
            f.status = merged
            changed = changed || merged != (flow.status ?? [])
        }
        if tcpState != nil, let p = protocolInfo(includeState: true) {
            f.protocolInfo = p
            changed = changed || p.tcp?.state != flow.protocolInfo?.tcp?.state
        }
        if let l = labelUpdate(for: flow) {
            f.labels = l.labels
            f.labelsMask = l.mask
            changed = true
        }
        return changed ? f : nil
    }

    /// Whether a flow from the table is selected by the given options.
    public func selects(_ flow: Flow) -> Bool {
        guard let o = flow.original, hasFilterLabels(flow) else { return false }
        if let fam = family, o.family != fam { return false }
        if let p = protocolNumber, o.protocolNumber != p { return false }
        if let f = originalSource, !f.matches(o.source) { return false }
        if let f = originalDestination, !f.matches(o.destination) { return false }
        if let p = sourcePort, o.sourcePort != p { return false }
        if let p = destinationPort, o.destinationPort != p { return false }
        if let t = icmpType, o.icmpType != t { return false }
        if let c = icmpCode, o.icmpCode != c { return false }
        if let i = icmpID, o.icmpID != i { return false }
        if let r = flow.reply {
            if let f = replySource, !f.matches(r.source) { return false }
            if let f = replyDestination, !f.matches(r.destination) { return false }
            if let p = replySourcePort, r.sourcePort != p { return false }
            if let p = replyDestinationPort, r.destinationPort != p { return false }
            // conntrack's filter_nat: a NAT option without an address asks for any NAT
            // of its kind; -j for either kind.
            let snat = flow.isSourceNATted && (sourceNAT ?? anyNAT).map { r.destination == $0 } ?? flow.isSourceNATted
            let dnat = flow.isDestinationNATted && (destinationNAT ?? anyNAT).map { r.source == $0 } ?? flow.isDestinationNATted
            if anyNATGiven && !(snat || dnat) { return false }
            if sourceNATGiven && !snat { return false }
            if destinationNATGiven && !dnat { return false }
        }
        // For -U the mark and status are the new values, not filters.
        if let m = mark, command != .update {
            let mask = markMask ?? UInt32.max
            if (flow.mark ?? 0) & mask != m & mask { return false }
        }
        if let z = zone, (flow.zone ?? 0) != z { return false }
        if let z = originalZone, (o.zone ?? 0) != z { return false }
        if let z = replyZone, (flow.reply?.zone ?? 0) != z { return false }
        if let s = status, command != .update, !(flow.status ?? []).isSuperset(of: s) { return false }
        if let s = tcpState, flow.protocolInfo?.tcp?.state != s { return false }
        return true
    }

    /// Whether an expectation is selected (listing and deletion by tuple).
    func selects(_ x: Expectation) -> Bool {
        guard let t = x.tuple else { return false }
        if let fam = family, t.family != fam { return false }
        if let p = protocolNumber, t.protocolNumber != p { return false }
        if let f = originalSource, let m = x.master, !f.matches(m.source) { return false }
        if let f = originalDestination, let m = x.master, !f.matches(m.destination) { return false }
        if let s = tupleSource, t.source != s { return false }
        if let d = tupleDestination, t.destination != d { return false }
        return true
    }

    /// The expectation `-I expect` creates: master from -s/-d/-p/ports, expected tuple and
    /// mask from the --tuple-* and --mask-* options.
    func expectationToCreate() -> Expectation? {
        guard let ts = tupleSource, let td = tupleDestination, let ms = maskSource, let md = maskDestination,
              let proto = protocolNumber else { return nil }
        var x = Expectation(family: ts.family)
        x.master = originalTuple()
        x.tuple = Tuple(source: ts, destination: td, protocolNumber: proto,
                        sourcePort: tupleSourcePort, destinationPort: tupleDestinationPort)
        x.mask = Tuple(source: ms, destination: md, protocolNumber: proto,
                       sourcePort: maskSourcePort, destinationPort: maskDestinationPort)
        x.timeout = timeout
        x.helperName = helper
        return x
    }

    /// `-G expect`: conntrack sends -s/-d/--sport/--dport as the expectation's master, and
    /// the kernel looks that tuple up as the expected one; Tandem sends it as the expected
    /// tuple, the same lookup.
    func expectationToGet() -> Expectation? {
        guard let t = originalTuple() else { return nil }
        var x = Expectation(family: t.source.family)
        x.tuple = t
        return x
    }
}
