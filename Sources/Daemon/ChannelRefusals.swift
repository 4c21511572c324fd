import StateSync

/// Which dedicated link each refusal of the hardened sync link arrived on (issue #15): a
/// forger on one of two redundant links, or a second HA pair on one multicast group,
/// shows as refusals on that link only. The links count their own source-check refusals;
/// what the jump guard, the rate limits and the external cache refuse is judged after
/// the link, so it is given to the link its message came in on here: the refusals made
/// while a link's messages were being handled are that link's.
struct ChannelRefusals {
    /// Per link (the ChannelSet's order), the message-level reasons only.
    private(set) var byChannel: [SyncRefusals]
    private var handling: Int?
    private var mark = SyncRefusals()

    init(channels: Int) { byChannel = Array(repeating: SyncRefusals(), count: channels) }

    /// A turn's reading starts; `totals`: the node's message-level refusals now.
    mutating func start(_ totals: SyncRefusals) {
        handling = nil
        mark = totals
    }

    /// A message from link `index` is about to be judged. Links are read one after the
    /// other, so this settles the previous link's share only when the link changes.
    mutating func handling(_ index: Int, totals: @autoclosure () -> SyncRefusals) {
        guard index != handling else { return }
        settle(totals())
        handling = index
    }

    /// The turn's reading is over (or the link changes): what was refused since the mark
    /// goes to the link being handled.
    mutating func settle(_ totals: SyncRefusals) {
        defer { mark = totals }
        guard let i = handling, byChannel.indices.contains(i) else { return }
        byChannel[i].sequenceJumpUnconfirmed += totals.sequenceJumpUnconfirmed - mark.sequenceJumpUnconfirmed
        byChannel[i].rateLimited += totals.rateLimited - mark.rateLimited
        byChannel[i].ackBeyondSent += totals.ackBeyondSent - mark.ackBeyondSent
        byChannel[i].cacheFull += totals.cacheFull - mark.cacheFull
    }
}
