#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import StateSync
import Timekeeping

/// The first moments of a promotion, while the old master may still be forwarding: it
/// keeps traffic until it hears the new master's advert and the routers have its GARP,
/// and the flows it creates or ends meanwhile reach the new master only as sync messages.
/// A commit has already emptied the external cache into the kernel, so without this those
/// messages would land in the external cache alone: a flow that ended there would live on
/// in the new master's table (and be committed again at every failover after), and one
/// that began there would be missing. For a short window the peer's NEW and DESTROY
/// messages also go into the kernel. UPDATEs do not: the new master's entries move with
/// its own traffic now, and an older view must not overwrite them.
///
/// The window closes well before the old master, now backup, purges its own table
/// (PurgeTimeout): the destroys of that purge must not reach the new master's kernel.
struct PromotionHandover {
    struct Counters: Equatable, Sendable, Encodable {
        var created = 0, alreadyPresent = 0, destroyed = 0, alreadyGone = 0, failed = 0
        var windows = 0
    }

    private(set) var until: Instant?
    private(set) var counters = Counters()
    /// Off for the tests' control runs only (TANDEM_TEST_NO_HANDOVER).
    var enabled = true
    /// Datagrams were read into memory while the window was open (the reconciling dump a
    /// second into it, say): they are handed over when decoded, even if the window closed
    /// meanwhile. Cleared once the stash is decoded.
    var drainingStash = false

    static let longestWindow = Duration.seconds(2)

    /// Half the peer's purge delay (the same PurgeTimeout as ours in a pair built from one
    /// configuration), at most `longestWindow`; none when the purge is immediate.
    static func window(purgeTimeout seconds: Int) -> Duration {
        min(longestWindow, .milliseconds(Int64(max(0, seconds)) * 500))
    }

    mutating func begin(now: Instant, window: Duration) {
        guard enabled, window > .zero else { return }
        until = now + window
        counters.windows += 1
    }

    /// Whether the window is open at `now`; closes it once past.
    mutating func isOpen(now: Instant) -> Bool {
        guard let u = until else { return false }
        if now < u { return true }
        until = nil
        return false
    }

    /// The messages of one loop turn that go to the kernel: NEW and DESTROY of flows.
    static func handsOver(_ type: SyncMessageType) -> Bool { type == .flowNew || type == .flowDestroy }

    /// Adds one turn's tally.
    mutating func record(_ turn: Counters) {
        counters.created += turn.created
        counters.alreadyPresent += turn.alreadyPresent
        counters.destroyed += turn.destroyed
        counters.alreadyGone += turn.alreadyGone
        counters.failed += turn.failed
    }
}

extension Committer {
    /// Writes a turn's handed-over messages: creates that find the flow already there and
    /// deletes that find it gone are counted apart, not as failures.
    func handOver(_ queued: [(SyncMessageType, SyncedFlow)], into handover: inout PromotionHandover) throws {
        var turn = PromotionHandover.Counters()
        defer { handover.record(turn) }
        var creates: [Flow] = [], deletes: [Flow] = []
        for (type, synced) in queued {
            switch type {
            case .flowNew:
                if let f = kernelFlow(synced, timeout: nil) { creates.append(f) } else { turn.failed += 1 }
            case .flowDestroy:
                if let o = synced.flow?.original { deletes.append(Flow(original: o)) } else { turn.failed += 1 }
            default: continue
            }
        }
        if !creates.isEmpty {
            let r = try kernel.create(creates, acknowledge: true)
            let present = r.failures.filter { $0.error.errno == EEXIST }.count
            turn.created += r.succeeded
            turn.alreadyPresent += present
            turn.failed += r.failed - present
        }
        if !deletes.isEmpty {
            let r = try kernel.delete(deletes, acknowledge: true)
            let gone = r.failures.filter { $0.error.errno == ENOENT }.count
            turn.destroyed += r.succeeded
            turn.alreadyGone += gone
            turn.failed += r.failed - gone
        }
    }
}
