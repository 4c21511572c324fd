import ConfigParsing
import StateSync
import Timekeeping

/// The dedicated links of one node (spec §4.6): up to four of one kind, all receiving,
/// one sending. The sender follows the peer (the channel a valid message last came in
/// on) and, when its interface loses UP or RUNNING, moves to the next one that has either.
public final class ChannelSet {
    public let channels: [any SyncChannel]
    public private(set) var current: Int
    /// TCP: the partial message at the end of what was read, per channel.
    var partial: [Int: [UInt8]] = [:]
    var nextLinkCheck = Instant.zero
    var noneAvailable = false
    /// How interface state is read; replaced in tests.
    public var linkStatus: (String) -> String = InterfaceStatus.of
    /// `--sync-key`: every datagram and TCP frame sealed and checked (nil: conntrackd's wire).
    public var authenticator: SyncAuthenticator?
    /// TCP with a key: the partial frame at the end of what was read, per channel, and
    /// the channels whose stream lost its framing until they reconnect.
    var sealedPartial: [Int: [UInt8]] = [:]
    var brokenStreams: Set<Int> = []
    /// With a key: the authenticator's refusals by the channel they came in on (its own
    /// counters are the node's totals), so an operator sees which link a forger is on.
    public private(set) var authenticationRefusals: [SyncAuthenticator.Counters]
    /// Read during a long job and not decoded yet, per channel (see `stash()`).
    var stashed: [Int: StashedInputs] = [:]
    var stashedBytes = 0
    var stashFull = false
    public internal(set) var stashCounters = StashCounters()

    public init(_ channels: [any SyncChannel], defaultIndex: Int) {
        self.channels = channels
        current = min(max(0, defaultIndex), channels.count - 1)
        authenticationRefusals = Array(repeating: SyncAuthenticator.Counters(), count: channels.count)
    }

    public var active: any SyncChannel { channels[current] }

    public var descriptors: [Int32] { channels.flatMap(\.descriptors) }

    /// Largest batch of messages one send may carry, room left for the envelope.
    public var maximumPayload: Int {
        active.maximumPayload - (authenticator == nil ? 0 : AuthenticatedFrame.overhead)
    }

    /// Reads every channel, handing each message over as it is decoded with the index
    /// of the channel it came in on.
    /// `fastFlow` (channel index, header, type, payload), if given, is offered each flow
    /// state message of a datagram first (see `SyncReceiver.receive(datagram:fastFlow:_:)`).
    public func receive(into receiver: inout SyncReceiver,
                        fastFlow: ((Int, SyncHeader, SyncMessageType, UnsafeRawBufferPointer) -> Bool)? = nil,
                        _ handle: (Int, ReceivedSyncMessage) -> Void) {
        for i in channels.indices {
            let before = authenticator?.counters
            defer { if let before, let after = authenticator?.counters { authenticationRefusals[i].addRefusals(from: before, to: after) } }
            for input in inputs(of: i) {
                switch input {
                case .datagram(let bytes):
                    var payload: Range<Int>?
                    if authenticator != nil {
                        guard case .success(let opened) = authenticator!.open(datagram: bytes) else { continue }
                        payload = opened
                    }
                    receiver.receive(datagram: bytes, within: payload, fastFlow: { fastFlow?(i, $0, $1, $2) ?? false }) { handle(i, $0) }
                case .stream(var bytes, let restarted):
                    if authenticator != nil {
                        if restarted { partial[i] = nil }
                        guard let opened = openSealed(bytes, restarted: restarted, channel: i) else { continue }
                        bytes = opened
                    }
                    var buffered = restarted ? [] : (partial[i] ?? [])
                    buffered += bytes
                    let (messages, consumed) = receiver.receive(stream: buffered)
                    for m in messages { handle(i, m) }
                    partial[i] = consumed < buffered.count ? Array(buffered[consumed...]) : nil
                }
            }
        }
    }

    /// A valid message arrived on `index`: answer on the link the peer uses.
    public func follow(_ index: Int) -> String? {
        guard index != current else { return nil }
        current = index
        return "device `\(channels[index].interface ?? "")' becomes dedicated link"
    }

    public func send(_ bytes: [UInt8]) {
        if authenticator != nil { active.send(authenticator!.seal(bytes)) } else { active.send(bytes) }
    }

    public func send(batch bytes: [UInt8], ends: [Int]) {
        if authenticator != nil {
            let sealed = authenticator!.seal(batch: bytes, ends: ends)
            active.send(batch: sealed.bytes, ends: sealed.ends)
        } else {
            active.send(batch: bytes, ends: ends)
        }
    }

    /// The payloads of the sealed frames complete so far on stream channel `i`; nil when
    /// nothing is to be handed on.
    private func openSealed(_ bytes: [UInt8], restarted: Bool, channel i: Int) -> [UInt8]? {
        if restarted { brokenStreams.remove(i); sealedPartial[i] = nil }
        guard !brokenStreams.contains(i) else { return nil }
        var buffered = sealedPartial[i] ?? []
        buffered += bytes
        let result = authenticator!.open(stream: buffered)
        if result.broken != nil {
            brokenStreams.insert(i)
            sealedPartial[i] = nil
        } else {
            sealedPartial[i] = result.consumed < buffered.count ? Array(buffered[result.consumed...]) : nil
        }
        return result.payload.isEmpty ? nil : result.payload
    }

    /// Connection upkeep, and once a second the link check; returns a log line on change.
    public func service(now: Instant) -> String? {
        for c in channels { c.service(now: now) }
        guard channels.count > 1, now >= nextLinkCheck else { return nil }
        nextLinkCheck = now + .seconds(1)
        guard let name = active.interface, linkStatus(name) != "RUNNING" else { return nil }
        for step in 1..<channels.count {
            let i = (current + step) % channels.count
            if let n = channels[i].interface, linkStatus(n) != "DOWN" {
                current = i
                noneAvailable = false
                return "device `\(n)' becomes dedicated link"
            }
        }
        if noneAvailable { return nil }
        noneAvailable = true
        return "no dedicated links available!"
    }
}

extension SyncAuthenticator.Counters {
    /// The refusals made between `before` and `after` (two readings of one
    /// authenticator's counters), added to these.
    mutating func addRefusals(from before: Self, to after: Self) {
        notAuthenticated += after.notAuthenticated - before.notAuthenticated
        malformed += after.malformed - before.malformed
        unknownVersion += after.unknownVersion - before.unknownVersion
        unknownKey += after.unknownKey - before.unknownKey
        badTag += after.badTag - before.badTag
        replay += after.replay - before.replay
    }
}

extension ChannelSet {
    /// Opens the configured links (spec §4): one kind only, at most four, each with the
    /// addresses its kind needs. `hardened`: the source checks of docs/sync-hardening.md
    /// (off only for the tests' control runs).
    public static func open(_ configured: [ConntrackdConfiguration.Channel], hardened: Bool = true) throws(SetupError) -> ChannelSet {
        guard let first = configured.first else { throw .configuration("no dedicated link (UDP, Multicast or TCP) in Sync") }
        guard configured.allSatisfy({ $0.kind == first.kind }) else {
            throw .configuration("\(first.location): dedicated links of different kinds cannot be mixed")
        }
        guard configured.count <= 4 else { throw .configuration("\(configured[4].location): at most four dedicated links") }
        var channels: [any SyncChannel] = []
        for c in configured {
            let port = UInt16(clamping: c.port)
            switch c.kind {
            case .udp:
                guard let local = c.ipv4Address ?? c.ipv6Address, let peer = c.ipv4Destination ?? c.ipv6Destination else {
                    throw .configuration("\(c.location): the UDP link needs IPv4_address and IPv4_Destination_Address (or their IPv6 pair)")
                }
                channels.append(try UDPChannel(local: local, peer: peer, port: port, interface: c.interface,
                                               sendBuffer: c.sendBuffer, receiveBuffer: c.receiveBuffer, checksum: c.checksum))
            case .multicast:
                guard let group = c.ipv4Address ?? c.ipv6Address, c.ipv4Interface != nil || c.ipv6Address != nil else {
                    throw .configuration("\(c.location): the Multicast link needs IPv4_address (the group) and IPv4_interface, or IPv6_address and Interface")
                }
                let local = c.ipv4Interface
                channels.append(try MulticastChannel(group: group, port: port, localInterfaceAddress: local, interface: c.interface,
                                                     sendBuffer: c.sendBuffer, receiveBuffer: c.receiveBuffer, checksum: c.checksum,
                                                     hardened: hardened))
            case .tcp:
                guard let local = c.ipv4Address ?? c.ipv6Address, let peer = c.ipv4Destination ?? c.ipv6Destination else {
                    throw .configuration("\(c.location): the TCP link needs IPv4_address and IPv4_Destination_Address (or their IPv6 pair)")
                }
                channels.append(try TCPChannel(local: local, peer: peer, port: port, interface: c.interface,
                                               sendBuffer: c.sendBuffer, receiveBuffer: c.receiveBuffer,
                                               errorQueueLength: c.errorQueueLength, hardened: hardened))
            }
        }
        return ChannelSet(channels, defaultIndex: configured.firstIndex(where: \.isDefault) ?? 0)
    }

    /// Who the peer is, for log lines.
    public static func peerDescription(_ configured: [ConntrackdConfiguration.Channel]) -> String {
        guard let c = configured.first(where: \.isDefault) ?? configured.first else { return "?" }
        switch c.kind {
        case .multicast: return "group \((c.ipv4Address ?? c.ipv6Address).map { "\($0)" } ?? "?")"
        default: return (c.ipv4Destination ?? c.ipv6Destination).map { "\($0)" } ?? "?"
        }
    }
}
