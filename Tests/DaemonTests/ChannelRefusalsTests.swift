@testable import Daemon
import StateSync
import TestSupport
import Testing

/// The hardened link's refusals by the link they arrived on: what is refused while a
/// link's messages are handled is that link's, and the document carries each channel's
/// share (valid against the schema).
@Suite struct ChannelRefusalsTests {
    static func totals(jumps: Int = 0, rateLimited: Int = 0, ackBeyondSent: Int = 0, cacheFull: Int = 0) -> SyncRefusals {
        var r = SyncRefusals()
        r.sequenceJumpUnconfirmed = jumps
        r.rateLimited = rateLimited
        r.ackBeyondSent = ackBeyondSent
        r.cacheFull = cacheFull
        return r
    }

    @Test func eachRefusalGoesToTheLinkWhoseMessagesWereBeingHandled() {
        var c = ChannelRefusals(channels: 2)
        // A turn: link 0's messages cost one refused jump, then link 1's two forged ACKs
        // and a rate-limited resync.
        c.start(Self.totals(jumps: 5))
        c.handling(0, totals: Self.totals(jumps: 5))
        c.handling(0, totals: Self.totals(jumps: 6))
        c.handling(1, totals: Self.totals(jumps: 6))
        c.settle(Self.totals(jumps: 6, rateLimited: 1, ackBeyondSent: 2))
        #expect(c.byChannel[0] == Self.totals(jumps: 1))
        #expect(c.byChannel[1] == Self.totals(rateLimited: 1, ackBeyondSent: 2))
        // Refusals made between turns (before any message was handled) go to no link;
        // the next turn starts from the totals it finds.
        c.start(Self.totals(jumps: 6, rateLimited: 1, ackBeyondSent: 2, cacheFull: 9))
        c.handling(1, totals: Self.totals(jumps: 6, rateLimited: 1, ackBeyondSent: 2, cacheFull: 9))
        c.settle(Self.totals(jumps: 6, rateLimited: 1, ackBeyondSent: 2, cacheFull: 10))
        #expect(c.byChannel[0] == Self.totals(jumps: 1))
        #expect(c.byChannel[1] == Self.totals(rateLimited: 1, ackBeyondSent: 2, cacheFull: 1))
        // A turn with no message attributes nothing.
        c.start(Self.totals())
        c.settle(Self.totals(jumps: 40))
        #expect(c.byChannel[0].total + c.byChannel[1].total == 5)
    }

    @Test func theDocumentCarriesEachChannelsRefusals() throws {
        var stats = ConntrackdStatistics(internalCache: .init(name: "internal", objects: 0, active: 0, counters: CacheCounters()),
                                         externalCache: .init(name: "external", objects: 0, active: 0, counters: CacheCounters()))
        var first = ConntrackdStatistics.Channel(kind: "UDP", interface: "eth1", status: "RUNNING", active: true)
        first.refusals.notFromPeer = 3
        var second = ConntrackdStatistics.Channel(kind: "UDP", interface: "eth2", status: "RUNNING", active: false)
        second.refusals.sequenceJumpUnconfirmed = 2
        second.authenticationRefused = SyncAuthenticator.Counters()
        second.authenticationRefused?.badTag = 5
        stats.channels = [first, second]
        let channels = stats.channels.map(StatusDocument.channel)
        var d = StatusDocumentTests.document()
        d.sync.channels = channels
        let j = try JSONValue.parse(try d.json())
        #expect(try JSONSchemaSubset.statusSchema().errors(in: j) == [])
        let c = try #require(j["sync"]?["channels"])
        #expect(c[0]?["refusals"]?["notFromPeer"] == .integer(3))
        #expect(c[0]?["authenticationRefused"] == .null)
        #expect(c[1]?["refusals"]?["notFromPeer"] == .integer(0))
        #expect(c[1]?["refusals"]?["sequenceJumpUnconfirmed"] == .integer(2))
        #expect(c[1]?["authenticationRefused"]?["badTag"] == .integer(5))
        #expect(c[1]?["authenticationRefused"]?["replay"] == .integer(0))
    }
}
