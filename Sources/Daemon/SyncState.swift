import Conntrack
import StateSync

/// What the sync keeps from one loop turn to the next, as plain values the daemon changes
/// in place: the external cache (spec §5.2), the expectation caches, kernel events that
/// bypass the internal cache, whether the peer's whole table has arrived, the repair of
/// gaps in its messages, and committed flows waiting for table space. The internal cache
/// lives beside it (see `ConntrackdDaemon.internalCache`).
struct SyncState {
    var externalCache: ExternalCache
    var expectations: ExpectationSyncState
    var internalBypass = InternalBypass()
    /// Has the peer's table arrived since we last asked for it (sync health)?
    var resync: ResyncProgress
    /// Gaps in the peer's messages that its resends may not have filled.
    var gapRepair: GapRepair
    /// The latest resync request, while its answer is on the way (stale flows go after it).
    var resyncSweep: ResyncSweep?
    /// Committed flows a full conntrack table refused, written again as space frees.
    var pendingCommit = PendingCommit()
    /// Right after a promotion: the old master's NEW and DESTROY messages also go to the kernel.
    var handover = PromotionHandover()
    /// A bulk send of the internal cache being queued slice by slice.
    var bulkWalk: BulkWalk?
    /// How far behind the peer is, from its ACKs of sampled flows.
    var replicationLag = ReplicationLag()
    /// Cache tables emptied this turn (a promotion's `-f`), freed at the start of the next:
    /// freeing a quarter-million entries must not delay the commit that emptied them.
    var released: [(FlowTable<InternalCache.Entry>, FlowTable<ExternalCache.Entry>)] = []
}
