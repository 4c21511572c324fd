import ConfigParsing
import StateSync

/// What the daemon keeps for ExpectationSync (spec §5.9): both expectation caches and
/// which helpers' expectations are replicated.
public struct ExpectationSyncState: Sendable {
    public let setting: ConntrackdConfiguration.ExpectationSync
    var internalCache: InternalExpectationCache
    var externalCache: ExternalExpectationCache
    /// DisableExternalCache: what the kernel took.
    var injected = CacheCounters()

    public init(setting: ConntrackdConfiguration.ExpectationSync, limit: Int, options: SyncSenderOptions) {
        self.setting = setting
        internalCache = InternalExpectationCache(limit: limit, options: options)
        externalCache = ExternalExpectationCache(limit: limit)
    }

    public var enabled: Bool { setting != .off }

    /// conntrackd matches a listed name as a case-insensitive prefix, so `sip` also
    /// takes `sip-5060`; an expectation without a helper passes only `ExpectationSync on`.
    public func accepts(helper: String?) -> Bool {
        switch setting {
        case .off: return false
        case .all: return true
        case .helpers(let names):
            guard let h = helper?.lowercased() else { return false }
            return names.contains { h.hasPrefix($0.lowercased()) }
        }
    }
}
