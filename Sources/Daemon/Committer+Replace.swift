#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// A commit updates entries the kernel already holds, keeping their counters. The kernel
/// cannot give an existing entry NAT, a helper or a master, and answers EOPNOTSUPP: such an
/// entry was made locally (a packet that crossed before the commit, or a table left from an
/// earlier term) and disagrees with the master's. conntrackd removes an entry its create
/// collides with and creates the replicated one; the replicated state wins here too.
extension Committer {
    struct Replacement {
        var replaced = 0
        /// Input position and errno of each flow that still did not go in.
        var failures: [(index: Int, errno: Int32)] = []
    }

    /// Removes what each flow collided with (found by its original tuple or by the reply
    /// it was written with) and creates it afresh. `flows` pairs input positions with the
    /// flows as they were written.
    func replace(_ flows: [(index: Int, flow: Flow)]) throws -> Replacement {
        guard !flows.isEmpty else { return Replacement() }
        var byOriginal: [Flow] = []
        var byReply: [Flow] = []
        for (_, f) in flows {
            if let o = f.original {
                var d = Flow(family: f.family)
                d.original = o
                byOriginal.append(d)
            }
            if let r = f.reply {
                var d = Flow(family: f.family)
                d.reply = r
                byReply.append(d)
            }
        }
        // A collision found by one tuple leaves nothing under the other: ENOENT is expected.
        _ = try kernel.delete(byOriginal, acknowledge: true)
        _ = try kernel.delete(byReply, acknowledge: true)
        let r = try kernel.create(flows.map(\.flow), updateExisting: false, acknowledge: true)
        return Replacement(replaced: r.succeeded, failures: r.failures.map { (flows[$0.index].index, $0.error.errno) })
    }
}
