/// What the sync engine tracks: conntracks and expectations share one sequence space and
/// the whole FTFW machinery (spec §5.9), so one key type names both.
public enum SyncObjectKey: Hashable, Sendable {
    case flow(FlowKey)
    case expectation(ExpectationKey)
    /// DisableInternalCache: one kernel event, sent once as it came (no coalescing).
    case bypassed(UInt64)
}

extension SyncObjectKey {
    /// The engine's index hashes a flow's key several times on its way out: the flow
    /// tables' keyed fold instead of SipHash, seeded by the table's own seed.
    public func _rawHashValue(seed: Int) -> Int {
        switch self {
        case .flow(let k):
            return Int(truncatingIfNeeded: k.mixedHash(seed: UInt64(bitPattern: Int64(seed))))
        case .expectation(let x):
            var h = Hasher()
            h.combine(seed)
            h.combine(x)
            return h.finalize()
        case .bypassed(let n):
            return Int(truncatingIfNeeded: FlowKey.fold(n ^ UInt64(bitPattern: Int64(seed)), 0x9E37_79B9_7F4A_7C15))
        }
    }
}
