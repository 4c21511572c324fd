import LinkIO

/// The peer's datagrams read into memory while a long kernel job holds the loop (see
/// `ChannelSet.stash()`): a commit between its batches, and a full-table dump every few
/// thousand flows. The next turn decodes them first.
extension ConntrackdDaemon {
    /// What a long kernel job runs every few thousand flows: the owner's `keepUp`, and the
    /// stash. The stash is left out for the tests' control runs (TANDEM_TEST_NO_STASH): the
    /// backlog then waits in the socket, as before.
    var whileBusy: (() -> Void)? {
        let keepUp = keepUp, stashes = commitTuning.stashes
        guard stashes || keepUp != nil else { return nil }
        return { [unowned self] in
            keepUp?()
            guard stashes else { return }
            if state.handover.isOpen(now: .now()) { state.handover.drainingStash = true }
            link.channels.stash()
        }
    }

    /// Flows a dump reads between two stashes.
    static let dumpFlowsPerStash = 4_096

    /// A kernel dump that calls `tick` once per flow: every `dumpFlowsPerStash` flows the
    /// peer's datagrams are stashed, and one line says how many after it.
    func dumpStashing<T>(during job: String, _ body: (_ tick: () -> Void) throws -> T) rethrows -> T {
        var pace = EveryNth(Self.dumpFlowsPerStash, whileBusy)
        let stashedBefore = link.channels.stashCounters
        defer { logStashed(since: stashedBefore, during: job) }
        return try body { pace.tick() }
    }

    /// One line after a long job that read the peer's datagrams into memory, so a slow
    /// commit's backlog shows in the log; and one when the budget stopped a stash.
    func logStashed(since before: ChannelSet.StashCounters, during job: String) {
        let now = link.channels.stashCounters
        guard now.inputs > before.inputs else { return }
        var line = "read \(now.inputs - before.inputs) datagram(s) (\((now.bytes - before.bytes + 1023) / 1024) KiB) from the peer during \(job); decoded after it"
        if now.budgetReached > before.budgetReached {
            line += "; the \(ChannelSet.stashBudget >> 20) MiB budget was reached, the rest waited in the socket"
        }
        log(line)
    }
}

/// Runs `action` once every `n` calls of `tick`: how often a long job stops to read the peer.
struct EveryNth {
    let n: Int
    let action: (() -> Void)?
    private var count = 0

    init(_ n: Int, _ action: (() -> Void)?) {
        self.n = n
        self.action = action
    }

    mutating func tick() {
        guard let action else { return }
        count += 1
        if count == n { count = 0; action() }
    }
}
