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
    /// The most a stash holds, counted with a per-input allowance for the array around the
    /// bytes. A soft limit: it is checked between reads, so one read of a channel (up to
    /// 256 datagrams) may pass it. Past it, reading stops and the socket's buffer takes
    /// the rest (dropped there when full, and recovered by the sync mode as before): a peer
    /// that floods us during a long commit cannot grow our memory without bound.
    public static let stashBudget = 32 << 20
    static let stashOverheadPerInput = 64

    public struct StashCounters: Equatable, Sendable {
        /// Inputs read into a stash, and how many bytes.
        public var inputs = 0, bytes = 0
        /// Times a stash filled its budget (once per filling, however often it is called while full).
        public var budgetReached = 0
    }

    /// Whether inputs read during a long job still wait to be decoded: the loop comes
    /// straight back for them rather than waiting for the socket to turn readable.
    public var hasStash: Bool { !stashed.isEmpty }

    /// Reads what waits on every channel into memory, undecoded; `receive` decodes it first.
    public func stash() {
        for (i, c) in channels.enumerated() {
            while stashedBytes < Self.stashBudget {
                let inputs = c.receiveAll()
                if inputs.isEmpty { break }
                for input in inputs {
                    stashedBytes += input.byteCount + Self.stashOverheadPerInput
                    stashCounters.bytes += input.byteCount
                }
                stashCounters.inputs += inputs.count
                stashed[i, default: StashedInputs()].inputs += inputs
            }
            if stashedBytes >= Self.stashBudget {
                if !stashFull { stashCounters.budgetReached += 1 }
                stashFull = true
                return
            }
        }
    }

    /// What channel `i` has to be decoded this turn: a turn's share of its stash
    /// (`datagramsPerTurn` inputs, as a socket read gives), and the socket itself only once
    /// the stash is empty, so the order stays the order of arrival.
    func inputs(of i: Int) -> [ChannelInput] {
        guard var held = stashed[i] else { return channels[i].receiveAll() }
        let end = min(held.inputs.count, held.head + datagramsPerTurn)
        let share = Array(held.inputs[held.head ..< end])
        held.head = end
        stashed[i] = end == held.inputs.count ? nil : held
        for input in share { stashedBytes -= input.byteCount + Self.stashOverheadPerInput }
        if stashedBytes < Self.stashBudget { stashFull = false }
        return share
    }
}

/// One channel's stash: decoded from `head` on, a turn's share at a time (an index, so a
/// large stash is not shifted down at every turn).
struct StashedInputs {
    var inputs: [ChannelInput] = []
    var head = 0
}

extension ChannelInput {
    var byteCount: Int {
        switch self {
        case .datagram(let b): b.count
        case .stream(let b, _): b.count
        }
    }
}
