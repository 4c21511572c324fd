import Conntrack
import IPAddressing
import StateSync

/// The commit's fast path. Nearly every replicated flow is a plain IPv4 one the external
/// cache keeps packed (`CompactSyncedFlow.Packed`); the kernel is given, and the internal
/// cache adopts, a flow just as plain (`CompactFlow.Packed`). Going from one packed form
/// to the other on bits skips what the general path builds per flow (a `SyncedFlow`, a
/// `Flow` with two `Tuple`s, the commit's copy of it, and packing it again to adopt it):
/// that was half of a commit's time at 100k flows. The result must be exactly what the
/// general path gives (`kernelFlow` plus IPS_CONFIRMED); CommitEncodingTests holds the
/// two side by side.
extension Committer {
    /// What the kernel is given for a stored entry, with IPS_CONFIRMED already in its
    /// status as a create requires: packed when the entry is, else `kernelFlow`'s flow.
    /// nil when the entry cannot become a flow.
    func committed(_ stored: CompactSyncedFlow) -> CompactFlow? {
        if case .packed(let p) = stored, let k = committed(packed: p) { return .packed(k) }
        guard let f = kernelFlow(stored.synced, timeout: nil) else { return nil }
        return .general(ConntrackConnection.forCreate(f))
    }

    /// `kernelFlow` on the packed form; nil sends the entry down the general path.
    func committed(packed p: CompactSyncedFlow.Packed) -> CompactFlow.Packed? {
        typealias Synced = CompactSyncedFlow.Packed.Bit
        typealias Kernel = CompactFlow.Packed.Bit
        guard p.has(Synced.protocolNumber), let original = p.originalTuple else { return nil }
        // Packed entries carry no NAT: the reply is the inverted original.
        var k = CompactFlow.Packed(unchecked: original)
        k.reply = original.inverted
        if p.has(Synced.status) {
            k.status = p.status | FlowStatus.confirmed.rawValue
            k.present |= Kernel.status
        }
        k.timeout = commitTimeout > 0 ? UInt32(commitTimeout) : (p.has(Synced.timeout) ? p.timeout : 180)
        k.present |= Kernel.timeout
        if p.has(Synced.mark) {
            k.mark = p.mark
            k.present |= Kernel.mark
        }
        if original.protocolNumber == IPProtocolNumber.tcp {
            let stated = p.has(Synced.tcpState)
            if stated {
                k.tcpState = p.tcpState
                k.present |= Kernel.tcp | Kernel.tcpState
            }
            if !windowTracking {
                // Liberal in both directions (IP_CT_TCP_FLAG_BE_LIBERAL), as conntrackd commits.
                k.tcpFlags = (0x08, 0x08, 0x08, 0x08)
                k.present |= Kernel.tcp | Kernel.flagsOriginal | Kernel.flagsReply
            }
        }
        if p.has(Synced.zeroSynproxy) { k.present |= Kernel.zeroSynproxy }
        return k
    }
}
