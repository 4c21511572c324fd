import StateSync

/// What a sync message is, as an operator counts them: the three flow operations, the
/// three expectation operations, and the control messages by their leading flag.
enum SyncMessageKind: Int, CaseIterable, Sendable {
    case flowNew, flowUpdate, flowDestroy
    case expectationNew, expectationUpdate, expectationDestroy
    case ack, nack, resyncRequest, alive, hello

    /// A control message may carry several flags (an ACK during a handshake carries HELLO
    /// too): the one that says what it asks of the receiver names it.
    static func of(_ type: SyncMessageType, _ flags: SyncFlags) -> SyncMessageKind {
        switch type {
        case .flowNew: .flowNew
        case .flowUpdate: .flowUpdate
        case .flowDestroy: .flowDestroy
        case .expectationNew: .expectationNew
        case .expectationUpdate: .expectationUpdate
        case .expectationDestroy: .expectationDestroy
        case .control:
            if flags.contains(.nack) { .nack }
            else if flags.contains(.ack) { .ack }
            else if flags.contains(.resync) { .resyncRequest }
            else if !flags.isDisjoint(with: .handshake) { .hello }
            else { .alive }
        }
    }

    /// The `kind` label of `tandem_sync_messages_total` (docs/metrics.md).
    var label: String {
        switch self {
        case .flowNew: "new"
        case .flowUpdate: "update"
        case .flowDestroy: "destroy"
        case .expectationNew: "expect_new"
        case .expectationUpdate: "expect_update"
        case .expectationDestroy: "expect_destroy"
        case .ack: "ack"
        case .nack: "nack"
        case .resyncRequest: "resync_request"
        case .alive: "alive"
        case .hello: "hello"
        }
    }
}

/// Sync messages sent and received, per dedicated link and kind. The loop counts each
/// message as it is written or decoded: one add into a flat array it owns, no lock and
/// no allocation, so counting costs the per-message path next to nothing. The metrics
/// endpoint reads a copy of it (see `MetricsFeed`).
struct SyncMessageTally: Sendable, Equatable {
    enum Direction: Int, CaseIterable, Sendable {
        case sent, received
        var label: String { self == .sent ? "sent" : "received" }
    }

    let links: Int
    private var counts: [Int]

    init(links: Int) {
        self.links = max(1, links)
        counts = Array(repeating: 0, count: self.links * 2 * SyncMessageKind.allCases.count)
    }

    private func index(_ d: Direction, _ kind: SyncMessageKind, link: Int) -> Int {
        ((min(max(0, link), links - 1) * 2) + d.rawValue) * SyncMessageKind.allCases.count + kind.rawValue
    }

    mutating func count(_ d: Direction, _ kind: SyncMessageKind, link: Int) {
        counts[index(d, kind, link: link)] &+= 1
    }

    func value(_ d: Direction, _ kind: SyncMessageKind, link: Int) -> Int {
        counts[index(d, kind, link: link)]
    }
}
