/// What the sync engine tracks: conntracks and expectations share one sequence space and
/// the whole FTFW machinery (spec §5.9), so one key type names both.
public enum SyncObjectKey: Hashable, Sendable {
    case flow(FlowKey)
    case expectation(ExpectationKey)
    /// DisableInternalCache: one kernel event, sent once as it came (no coalescing).
    case bypassed(UInt64)
}
