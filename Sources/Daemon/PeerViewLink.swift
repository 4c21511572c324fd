#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import IPAddressing
import LinkIO
import StateSync
import Timekeeping

/// `tandem run --peer-view PORT`: the peer views sent and received on a UDP socket of
/// their own, between the sync link's addresses (UDP, TCP) or on its Multicast group. Opt-in on both nodes: a node uses
/// what it hears and, until it hears anything, judges split brain as before.
final class PeerViewLink {
    /// How often the view is sent when nothing changes: the node's ALIVE interval
    /// (`SplitBrainTiming`), so a claim over the view stays fresh within a MDI. The peer's
    /// must be `freshness` young: two views and a half of a peer sending at the same pace.
    let interval: Duration
    var freshness: Duration { SplitBrainTiming.silence(peerInterval: interval) }

    let channel: any SyncChannel
    let port: UInt16
    let epoch: UInt64
    var sequence: UInt64 = 0
    var nextSend = Instant.zero
    var lastSent: [PeerView.Instance] = []
    /// The peer's newest view and when it came.
    private(set) var latest: (view: PeerView, at: Instant)?
    private(set) var refused: [String: Int] = [:]
    private var lastRefusalLog: Instant?
    private var foreignSeen = 0
    let log: (String) -> Void
    /// `--sync-key`: views sealed and checked as the sync link's frames are (their own
    /// counter and replay window); nil without a key.
    var authenticator: SyncAuthenticator?

    /// Where the views go: between the sync link's own addresses (UDP or TCP: the view is
    /// always a UDP datagram of its own, whatever carries the sync messages), or to the
    /// Multicast link's group on the view's port, read only from the link's subnet as the
    /// sync messages are (a pair on the group: one peer's sequence is followed).
    enum Endpoints: Equatable {
        case unicast(local: IPAddress, peer: IPAddress, interface: String?)
        case multicast(group: IPAddress, localInterface: IPAddress?, interface: String?)
    }

    /// The default sync channel's addresses (else the first that has them), or why there
    /// are none.
    static func endpoints(_ sync: ConntrackdConfiguration.Sync) -> Result<Endpoints, SetupError> {
        let ordered = sync.channels.filter(\.isDefault) + sync.channels.filter { !$0.isDefault }
        for c in ordered {
            switch c.kind {
            case .udp, .tcp:
                if let local = c.ipv4Address ?? c.ipv6Address, let peer = c.ipv4Destination ?? c.ipv6Destination {
                    return .success(.unicast(local: local, peer: peer, interface: c.interface))
                }
            case .multicast:
                if let group = c.ipv4Address ?? c.ipv6Address, c.ipv4Interface != nil || c.interface != nil {
                    return .success(.multicast(group: group, localInterface: c.ipv4Interface, interface: c.interface))
                }
            }
        }
        return .failure(.configuration("--peer-view needs a sync link with its peer's address (UDP or TCP) or a Multicast group"))
    }

    init(sync: ConntrackdConfiguration.Sync, port: UInt16, keys: SyncKeys?, interval: Duration = .seconds(1),
         log: @escaping (String) -> Void) throws(SetupError) {
        self.interval = interval
        switch try Self.endpoints(sync).get() {
        case .unicast(let local, let peer, let interface):
            channel = try UDPChannel(local: local, peer: peer, port: port, interface: interface, sendBuffer: nil, receiveBuffer: nil)
        case .multicast(let group, let local, let interface):
            channel = try MulticastChannel(group: group, port: port, localInterfaceAddress: local, interface: interface,
                                           sendBuffer: nil, receiveBuffer: nil)
        }
        self.port = port
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        epoch = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        self.log = log
        authenticator = keys.map { SyncAuthenticator(keys: $0, epoch: epoch) }
    }

    var descriptors: [Int32] { channel.descriptors }

    /// Sends this node's view every `interval`, and at once when a state or priority moved.
    func sendIfDue(_ instances: [PeerView.Instance], now: Instant) {
        guard now >= nextSend || instances != lastSent else { return }
        sequence += 1
        let bytes = PeerView(epoch: epoch, sequence: sequence, instances: instances).encoded()
        channel.send(authenticator?.seal(bytes) ?? bytes)
        channel.service(now: now)
        lastSent = instances
        nextSend = now + interval
    }

    func receive(now: Instant) {
        for input in channel.receiveAll() {
            guard case .datagram(var bytes) = input else { continue }
            if authenticator != nil {
                switch authenticator!.open(datagram: bytes) {
                case .success(let payload): bytes = Array(bytes[payload])
                case .failure(let refusal):
                    refuse("authentication", "not authenticated with the sync key (\(refusal))", now: now)
                    continue
                }
            }
            do throws(PeerViewError) {
                let view = try PeerView.decode(bytes)
                if let (held, _) = latest, view.epoch < held.epoch || (view.epoch == held.epoch && view.sequence <= held.sequence) {
                    throw .stale
                }
                if latest == nil { log("peer view: first view heard from the peer on port \(port)") }
                latest = (view, now)
            } catch {
                refuse(error.reason, "\(error)", now: now)
            }
        }
        if channel.foreignDatagrams > foreignSeen {
            refused["notFromPeer", default: 0] += channel.foreignDatagrams - foreignSeen
            foreignSeen = channel.foreignDatagrams
            refuse(nil, "a datagram not from the sync peer's address (Multicast: not from the link's subnet)", now: now)
        }
    }

    /// Counted always; logged at most every 10 s so a flood cannot fill the log.
    private func refuse(_ reason: String?, _ why: String, now: Instant) {
        if let reason { refused[reason, default: 0] += 1 }
        if let last = lastRefusalLog, now - last < .seconds(10) { return }
        lastRefusalLog = now
        log("peer view refused: \(why) (refusals so far: \(refused.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))")
    }

    /// The peer's view while fresh.
    func freshView(now: Instant) -> PeerView? {
        guard let (view, at) = latest, now - at <= freshness else { return nil }
        return view
    }

    var lastHeard: Instant? { latest?.at }
}
