import ConfigParsing
import Conntrack
import IPAddressing
import StateSync

/// conntrackd's `Filter From Userspace` (spec §5.8): which kernel flows are replicated.
/// Every configured rule must pass; a rule without a policy for a field passes it. The
/// kernel-space variant compiles the same rules to BPF (`KernelEventFilter`) and leaves to
/// this what it cannot judge.
struct FlowFilter {
    let rules: [ConntrackdConfiguration.Filter]

    func passes(_ flow: Flow) -> Bool {
        guard let o = flow.original else { return false }
        return passes(protocolNumber: o.protocolNumber, source: o.source, replySource: flow.reply?.source,
                      tcpState: flow.protocolInfo?.tcp?.state)
    }

    func passes(_ p: CompactFlow.Packed) -> Bool {
        rules.isEmpty
            || passes(protocolNumber: p.original.protocolNumber, source: .v4(p.original.source), replySource: .v4(p.reply.source),
                      tcpState: p.has(CompactFlow.Packed.Bit.tcpState) ? TCPState(rawValue: p.tcpState) : nil)
    }

    func passes(protocolNumber: UInt8, source: IPAddress, replySource: IPAddress?, tcpState: TCPState?) -> Bool {
        for f in rules {
            if let policy = f.protocolPolicy {
                let match = f.protocolNumbers.contains(protocolNumber)
                if (policy == .accept) != match { return false }
            }
            if let policy = f.addressPolicy {
                let match = f.addresses.contains { $0.contains(source) }
                    || replySource.map { r in f.addresses.contains { $0.contains(r) } } ?? false
                if (policy == .accept) != match { return false }
            }
            if let policy = f.statePolicy, protocolNumber == IPProtocolNumber.tcp, let state = tcpState {
                let match = f.states.contains(state)
                if (policy == .accept) != match { return false }
            }
        }
        return true
    }
}

/// What the configuration says to replicate and how: which flows (`Filter`), and what
/// their messages carry (the timeout unless CommitTimeout is set; TCP window tracking).
struct ReplicationPolicy {
    let filter: FlowFilter
    let options: SyncSenderOptions
}
