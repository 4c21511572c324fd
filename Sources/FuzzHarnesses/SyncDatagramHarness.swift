import ConfigParsing
import LinkIO
import StateSync
import Timekeeping

/// conntrackd sync datagrams (UDP and multicast framing): one datagram through the
/// receiver the daemon uses, the hot path's packed decoder offered every flow message
/// first, as the daemon does.
enum SyncDatagramHarness {
    static let target = FuzzTarget(
        name: "sync-datagram",
        summary: "one sync datagram: SyncReceiver (header, TLV payload, control checks) with the packed flow decoder offered each flow message",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var receiver = SyncReceiver()
        var decoded: [SyncMessage] = []
        receiver.receive(datagram: bytes, fastFlow: { _, _, payload in
            // The packed decoder promises to accept only what the general one accepts.
            if CompactSyncedFlow.Packed(payload: payload) != nil {
                let general = Result { () throws(SyncPayloadError) in try SyncedFlowCodec.decode(payload, 0..<payload.count) }
                if case .failure(let e) = general {
                    invariant(false, "packed decoder accepted a payload the general decoder refuses: \(e)")
                }
            }
            return false
        }) { received in
            if case .message(let m) = received { decoded.append(m) }
        }
        // What was decoded encodes again and decodes again; after that one round (which
        // may normalize, e.g. an empty labels attribute is not sent) the message is stable.
        for m in decoded {
            guard let once = roundTrip(m) else {
                invariant(false, "a decoded message does not decode once encoded: \(m)")
                return
            }
            invariant(roundTrip(once) == once, "message not stable under encode and decode: \(once)")
        }
    }

    static func roundTrip(_ m: SyncMessage) -> SyncMessage? {
        var receiver = SyncReceiver()
        let out = receiver.receive(datagram: m.encoded)
        guard out.count == 1, case .message(let back) = out[0] else { return nil }
        return back
    }
}

/// The TCP framing: the stream as the channel reads it, in pieces of any size, through
/// the ChannelSet that keeps a partial message between reads.
enum SyncStreamHarness {
    static let target = FuzzTarget(
        name: "sync-tcp-stream",
        summary: "a TCP sync stream cut into reads (first byte of each piece: its length; 0 = the connection restarts) through ChannelSet's framing",
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        var reads: [ChannelInput] = []
        var restarted = false
        while !input.isEmpty && reads.count < 64 {
            let n = Int(input.byte())
            if n == 0 { restarted = true; continue }
            reads.append(.stream(input.take(n), restarted: restarted))
            restarted = false
        }
        let channel = ScriptedChannel(reads)
        let set = ChannelSet([channel], defaultIndex: 0)
        var receiver = SyncReceiver()
        // One receive per read, as the loop polls.
        for _ in reads {
            set.receive(into: &receiver) { _, m in
                if case .message(let message) = m, case .control(let c) = message.body {
                    invariant(c.range.map { c.flags.contains(.resync) || $0.isWellFormed } ?? true, "ill-formed range passed: \(c)")
                }
            }
        }
    }
}

/// A channel whose reads are given up front: one per `receiveAll`.
final class ScriptedChannel: SyncChannel {
    private var reads: [ChannelInput]
    private var next = 0

    init(_ reads: [ChannelInput]) { self.reads = reads }

    var kind: ConntrackdConfiguration.Channel.Kind { .tcp }
    var interface: String? { nil }
    var maximumPayload: Int { 65_535 }
    var descriptors: [Int32] { [] }
    var counters: ChannelCounters { ChannelCounters() }
    var foreignDatagrams: Int { 0 }
    var lastForeignSource: UInt32? { nil }
    var backlogged: Bool { false }
    func send(_ bytes: [UInt8]) {}
    func service(now: Instant) {}

    func receiveAll() -> [ChannelInput] {
        guard next < reads.count else { return [] }
        defer { next += 1 }
        return [reads[next]]
    }
}
