import IPAddressing
import LinkIO
import StateSync
import Timekeeping

/// The daemon's side of the sync link: the configured channels, the receiver that parses
/// what arrives, the coalescer that packs what leaves, and whether the peer is heard.
/// What the messages mean is the daemon's (its engine and caches); this owns the wire.
final class PeerLink {
    let channels: ChannelSet
    /// Who the peer is, for log lines ("10.0.0.2:3780").
    let peerAddress: String
    var receiver = SyncReceiver()
    /// Packs messages into datagrams and decides when they leave.
    var coalescer = TransmitCoalescer()
    private(set) var liveness: PeerLiveness
    let log: (String) -> Void

    init(channels: ChannelSet, peerAddress: String, now: Instant, log: @escaping (String) -> Void) {
        self.channels = channels
        self.peerAddress = peerAddress
        liveness = PeerLiveness(now: now)
        self.log = log
    }

    /// The link messages currently leave on.
    var active: any SyncChannel { channels.active }
    var descriptors: [Int32] { channels.descriptors }

    /// When the link next has timed work: a datagram waiting for company, the peer's silence.
    var deadline: Instant { min(liveness.deadline, coalescer.deadline ?? .never, backlogRetry ?? .never) }

    /// While datagrams wait for room in the send buffer, the loop comes back this soon.
    static let backlogPause = Duration.milliseconds(1)
    private(set) var backlogRetry: Instant?

    /// After a turn's sends: a backlog brings the loop back within `backlogPause`.
    func sent(now: Instant) {
        backlogRetry = active.backlogged ? now + Self.backlogPause : nil
    }

    /// Datagrams dropped across all links because they did not come from the peer.
    var foreignDatagrams: Int { channels.channels.reduce(0) { $0 + $1.foreignDatagrams } }

    /// Hands each message that arrived to `handle` with its link's index (and, when
    /// `fastFlow` takes it, a flow message straight from its bytes). The handlers call
    /// `heard(now:)` for each message they take. Datagrams from anyone else are logged
    /// once per turn, not once per datagram: a flood must not flood the log too.
    func receive(fastFlow: ((Int, SyncHeader, SyncMessageType, UnsafeRawBufferPointer) -> Bool)?,
                 _ handle: (Int, ReceivedSyncMessage) -> Void) {
        heardThisTurn = false
        channels.receive(into: &receiver, fastFlow: fastFlow, handle)
        // Against the last count logged, not this turn's start: a stash during a long job
        // also drops datagrams from others, before any turn.
        let foreign = foreignDatagrams
        if foreign > foreignLogged, let a = channels.channels.compactMap(\.lastForeignSource).last {
            log("ignored \(foreign - foreignLogged) datagram(s) not from the peer, last from \(IPAddress.v4(a))")
        }
        foreignLogged = foreign
        if let counters = channels.authenticator?.counters {
            for line in authenticationLog.lines(counters, peer: peerAddress, now: .now()) { log(line) }
        }
    }

    private var heardThisTurn = false
    /// When the peer last said HELLO: it restarted then (the split-brain watch reads it).
    var lastHello: Instant?
    private var foreignLogged = 0
    private var authenticationLog = SyncAuthenticationLog()

    /// A message from the peer arrived: logs the peer heard again after a silence.
    func heard(now: Instant) {
        guard !heardThisTurn else { return }
        heardThisTurn = true
        if case .heardAgain(let after) = liveness.heard(now: now) {
            log("peer \(peerAddress) heard again after \(after.wholeSeconds) s of silence")
        }
    }

    /// A message the sync mode will judge arrived on link `index`: answers go out on that link.
    func follow(_ index: Int) {
        if let line = channels.follow(index) { log(line) }
    }

    /// Link failover and TCP reconnection; reports a peer that fell silent.
    func service(now: Instant) {
        if let line = channels.service(now: now) { log(line) }
        // Refusals after the last one logged are summed up even when the flood has stopped.
        if let counters = channels.authenticator?.counters {
            for line in authenticationLog.lines(counters, peer: peerAddress, now: now) { log(line) }
        }
        sent(now: now)
        if case .fellSilent(let d) = liveness.check(now: now) {
            log("no message from peer \(peerAddress) for \(d.wholeSeconds) s (\(active.counters.sendErrors) send errors so far): "
                + "unreachable or stopped; still sending")
        }
    }

    /// Sends a datagram still waiting for company (on the way out).
    func flush() { coalescer.flush(through: channels) }
}
