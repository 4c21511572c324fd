import Conntrack
import StateSync

/// DisableInternalCache (NOTRACK, spec §5.3): no internal cache. Each kernel event waits
/// here, under its own number, only until the engine gives it a sequence number; its
/// message type is the event's, so nothing coalesces.
public struct InternalBypass: Sendable {
    public private(set) var pending: [UInt64: (SyncMessageType, SyncedFlow)] = [:]
    /// "internal bypass" in `-s`: events passed on, by kind.
    public private(set) var counters = CacheCounters()
    private var next: UInt64 = 0

    public init() {}

    public mutating func add(_ flow: Flow, kind: FlowPrinter.EventKind, options: SyncSenderOptions) -> UInt64 {
        let type: SyncMessageType
        switch kind {
        case .new: type = .flowNew; counters.created += 1
        case .update: type = .flowUpdate; counters.updated += 1
        case .destroy: type = .flowDestroy; counters.destroyed += 1
        }
        next &+= 1
        pending[next] = (type, SyncedFlow(flow: flow, options: options))
        return next
    }

    /// The event's message, handed out once.
    public mutating func take(_ id: UInt64) -> (SyncMessageType, SyncMessage.Body)? {
        guard let (type, synced) = pending.removeValue(forKey: id) else { return nil }
        return (type, .flow(synced))
    }
}
