import ConfigParsing
import LinkIO
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
