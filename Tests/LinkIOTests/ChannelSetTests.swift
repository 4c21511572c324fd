import ConfigParsing
import LinkIO
import StateSync
import Testing
import TestSupport
import Timekeeping

/// Which link sends (spec §4.6): the default first, then the one the peer used last,
/// and on link loss the next usable one.
struct ChannelSetTests {
    final class FakeChannel: SyncChannel {
        let interface: String?
        var sent: [[UInt8]] = []
        init(_ name: String) { interface = name }
        var kind: ConntrackdConfiguration.Channel.Kind { .udp }
        var maximumPayload: Int { 1472 }
        var descriptors: [Int32] { [] }
        var counters: ChannelCounters { ChannelCounters() }
        func send(_ bytes: [UInt8]) { sent.append(bytes) }
        func receiveAll() -> [ChannelInput] { [] }
    }

    @Test func theDefaultSendsAndThePeersChoiceIsFollowed() {
        let a = FakeChannel("sync0"), b = FakeChannel("sync1")
        let set = ChannelSet([a, b], defaultIndex: 1)
        set.send([1])
        #expect(b.sent == [[1]] && a.sent.isEmpty)
        #expect(set.follow(0) == "device `sync0' becomes dedicated link")
        #expect(set.follow(0) == nil)
        set.send([2])
        #expect(a.sent == [[2]])
    }

    @Test func aLostLinkHandsOverToTheNextUsableOne() {
        let set = ChannelSet([FakeChannel("s0"), FakeChannel("s1"), FakeChannel("s2")], defaultIndex: 0)
        var status = ["s0": "RUNNING", "s1": "DOWN", "s2": "NO-CARRIER"]
        set.linkStatus = { status[$0] ?? "DOWN" }
        #expect(set.service(now: ns(0)) == nil)
        status["s0"] = "NO-CARRIER"
        #expect(set.service(now: ns(1_000_000_000)) == "device `s2' becomes dedicated link")
        #expect(set.current == 2)
        status = ["s0": "DOWN", "s1": "DOWN", "s2": "DOWN"]
        #expect(set.service(now: ns(2_000_000_000)) == "no dedicated links available!")
        #expect(set.service(now: ns(3_000_000_000)) == nil, "said once")
    }
}

/// With a key, the authenticator's refusals are kept by the channel they came in on: a
/// forger on the second link shows there; the genuine frames on the first leave its
/// count at 0, and the per-channel counts add up to the authenticator's own.
struct ChannelSetAuthenticationTests {
    final class InputChannel: SyncChannel {
        let interface: String?
        var inputs: [ChannelInput]
        init(_ name: String, _ inputs: [ChannelInput]) { interface = name; self.inputs = inputs }
        var kind: ConntrackdConfiguration.Channel.Kind { .udp }
        var maximumPayload: Int { 1472 }
        var descriptors: [Int32] { [] }
        var counters: ChannelCounters { ChannelCounters() }
        func send(_ bytes: [UInt8]) {}
        func receiveAll() -> [ChannelInput] { defer { inputs = [] }; return inputs }
    }

    @Test func refusalsAreKeptByTheChannelTheyCameInOn() throws {
        let key = try SyncKey(bytes: Array("channel-set-test-key-0123456789abcdef".utf8))
        var peer = SyncAuthenticator(keys: SyncKeys(current: key), epoch: 7)
        let payload: [UInt8] = [0, 0, 0, 8, 0, 0, 0, 1]
        let genuine = [peer.seal(payload), peer.seal(payload)]
        var forged = peer.seal(payload)
        forged[forged.count - 1] ^= 0x55
        let first = InputChannel("s0", genuine.map { .datagram($0) })
        let second = InputChannel("s1", [.datagram(Array("no envelope".utf8)), .datagram(forged), .datagram(genuine[0])])
        let set = ChannelSet([first, second], defaultIndex: 0)
        set.authenticator = SyncAuthenticator(keys: SyncKeys(current: key), epoch: 9)
        var receiver = SyncReceiver()
        set.receive(into: &receiver) { _, _ in }
        let byChannel = set.authenticationRefusals
        #expect(byChannel[0].refused == 0, "\(byChannel[0])")
        #expect(byChannel[1].notAuthenticated == 1 && byChannel[1].badTag == 1 && byChannel[1].replay == 1, "\(byChannel[1])")
        let total = try #require(set.authenticator?.counters)
        #expect(total.accepted == 2)
        #expect(byChannel[0].refused + byChannel[1].refused == total.refused)
    }
}

/// A long job reads the peer's datagrams into memory (`stash()`); the next `receive`
/// decodes them first, in the order they came, then what arrived after. A peer that sends
/// more than the budget during the job cannot grow the stash past it: the rest stays in
/// the channel and arrives later, still in order.
struct ChannelSetStashTests {
    final class QueuedChannel: SyncChannel {
        let interface: String? = "s0"
        /// Each call of `receiveAll` takes the next batch, as the socket has it.
        var batches: [[ChannelInput]] = []
        var kind: ConntrackdConfiguration.Channel.Kind { .udp }
        var maximumPayload: Int { 1472 }
        var descriptors: [Int32] { [] }
        var counters: ChannelCounters { ChannelCounters() }
        func send(_ bytes: [UInt8]) {}
        func receiveAll() -> [ChannelInput] { batches.isEmpty ? [] : batches.removeFirst() }
    }

    static func alive(_ sequence: UInt32) -> ChannelInput {
        var bytes: [UInt8] = []
        SyncMessage.control(.alive(sequence: sequence)).encode(into: &bytes)
        return .datagram(bytes)
    }

    static func sequences(_ set: ChannelSet) -> [UInt32] {
        var receiver = SyncReceiver()
        var seen: [UInt32] = []
        set.receive(into: &receiver) { _, r in if case .message(let m) = r { seen.append(m.sequence) } }
        return seen
    }

    @Test func aLargeStashIsDecodedATurnsShareAtATime() {
        let channel = QueuedChannel()
        channel.batches = [(0 ..< 600).map { Self.alive(UInt32($0)) }]
        let set = ChannelSet([channel], defaultIndex: 0)
        set.stash()
        let turns = (0 ..< 4).map { _ in Self.sequences(set) }
        #expect(turns.map(\.count) == [256, 256, 88, 0])
        #expect(turns.joined().elementsEqual(0 ..< 600))
    }

    @Test func whatWasStashedIsDecodedFirstInOrder() {
        let channel = QueuedChannel()
        channel.batches = [[Self.alive(1), Self.alive(2)], [Self.alive(3)]]
        let set = ChannelSet([channel], defaultIndex: 0)
        set.stash()
        #expect(channel.batches.isEmpty, "the stash reads until the socket is empty")
        #expect(set.stashCounters.inputs == 3 && set.stashCounters.budgetReached == 0)
        channel.batches = [[Self.alive(4)]]
        #expect(set.hasStash)
        #expect(Self.sequences(set) == [1, 2, 3], "the stash first; the socket once it is empty")
        #expect(!set.hasStash)
        #expect(Self.sequences(set) == [4])
        #expect(Self.sequences(set) == [], "a stash is decoded once")
    }

    @Test(arguments: [true, false])
    func theBudgetStopsTheStashAndTheRestWaitsInTheChannel(overBudget: Bool) {
        let channel = QueuedChannel()
        // Datagrams of a quarter of the budget each: the fourth fills it.
        let big = ChannelInput.datagram([UInt8](repeating: 0, count: ChannelSet.stashBudget / 4))
        channel.batches = overBudget ? [[big], [big], [big], [big], [Self.alive(9)]] : [[big], [big], [Self.alive(9)]]
        let set = ChannelSet([channel], defaultIndex: 0)
        set.stash()
        #expect(set.stashCounters.budgetReached == (overBudget ? 1 : 0))
        #expect(channel.batches.count == (overBudget ? 1 : 0), "what is past the budget stays in the channel")
        // Zero-filled datagrams are refused by the receiver; the ALIVE after them comes through.
        #expect(Self.sequences(set) + Self.sequences(set) == [9])
        set.stash()
        #expect(set.stashCounters.budgetReached == (overBudget ? 1 : 0), "counted once per filling")
    }
}
