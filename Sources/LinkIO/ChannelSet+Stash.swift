/// What the peer sends while the loop cannot decode it: a commit or a full-table dump runs
/// for seconds on a loaded machine, and a promotion's commit is exactly when the old master
/// is still sending the flows it makes and ends. Left in the socket, that backlog outgrows
/// the receive buffer, and the kernel drops the rest; FTFW brings it back only later, by
/// NACK or by a whole resync, by which time the promotion's handover has closed and the
/// flows reach the external cache alone (so the new master's kernel lacks them, or keeps
/// ones that ended). So the long jobs call `stash()` between their batches: the datagrams
/// (or stream bytes) are only read into memory, in order, and the next `receive` decodes
/// them first, as if they had just arrived.
extension ChannelSet {
    /// The most a stash holds. Past it, reading stops and the socket's buffer takes the rest
    /// (dropped there when full, and recovered by the sync mode as before): a peer that
    /// floods us during a long commit cannot grow our memory without bound.
    public static let stashBudget = 32 << 20

    public struct StashCounters: Equatable, Sendable {
        /// Inputs read into a stash, and how many bytes.
        public var inputs = 0, bytes = 0
        /// Stashes that stopped because the budget was spent.
        public var budgetReached = 0
    }

    /// Reads what waits on every channel into memory, undecoded; `receive` decodes it first.
    public func stash() {
        for (i, c) in channels.enumerated() {
            while stashedBytes < Self.stashBudget {
                let inputs = c.receiveAll()
                if inputs.isEmpty { break }
                for input in inputs {
                    let n = input.byteCount
                    stashedBytes += n
                    stashCounters.bytes += n
                }
                stashCounters.inputs += inputs.count
                stashed[i, default: []] += inputs
            }
            if stashedBytes >= Self.stashBudget { stashCounters.budgetReached += 1; return }
        }
    }

    /// What channel `i` has to be decoded this turn: its stash, then what waits in its socket.
    func inputs(of i: Int) -> [ChannelInput] {
        guard let held = stashed.removeValue(forKey: i) else { return channels[i].receiveAll() }
        for input in held { stashedBytes -= input.byteCount }
        return held + channels[i].receiveAll()
    }
}

extension ChannelInput {
    var byteCount: Int {
        switch self {
        case .datagram(let b): b.count
        case .stream(let b, _): b.count
        }
    }
}
