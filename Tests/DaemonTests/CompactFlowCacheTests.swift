import Conntrack
@testable import Daemon
import IPAddressing
import TestSupport
import Testing

/// The compact event form as the internal cache uses it: its key and its merge must be the
/// general form's.
@Suite struct CompactFlowCacheTests {
    @Test(arguments: FlowFixtures.flows) func packedKeyIsTheTuplesKey(_ f: Flow) throws {
        guard let o = f.original, let p = PackedTuple(o) else { return }
        #expect(FlowKey(packed: p) == FlowKey(o))
    }

    /// An update merged in packed form equals the general merge.
    @Test func packedMergeMatchesTheGeneralMerge() throws {
        let base = FlowFixtures.tcp
        var bare = Flow(family: AddressFamily.inet)
        bare.original = base.original
        bare.reply = base.reply
        var stateOnly = bare
        stateOnly.protocolInfo = .tcp(TCPInfo(state: .finWait))
        var markOnly = bare
        markOnly.mark = 9
        for (old, new) in [(base, bare), (base, stateOnly), (base, markOnly), (bare, base), (stateOnly, markOnly)] {
            guard case .packed(let o) = CompactFlow(old), case .packed(let n) = CompactFlow(new) else {
                Issue.record("not packed"); continue
            }
            let expected = InternalCache.merged(old, with: new)
            #expect(CompactFlow.packed(o.merged(with: n)).flow == expected)
        }
    }
}
