@testable import Daemon
import StateSync
import TestSupport
import Testing
import Timekeeping

/// The authentication counters in `tandem status --json` (`sync.authentication`, valid
/// against the schema, null when off) and in `-s network`; and the log's first line
/// about a conntrackd peer, said once, the rest summed up at most every 10 s.
@Suite struct SyncAuthenticationStatusTests {
    static func counters() -> SyncAuthenticator.Counters {
        var c = SyncAuthenticator.Counters()
        c.sealed = 9
        c.accepted = 8
        c.notAuthenticated = 1
        c.malformed = 2
        c.unknownVersion = 3
        c.unknownKey = 4
        c.badTag = 5
        c.replay = 6
        c.epochChanges = 1
        return c
    }

    @Test func theDocumentCarriesTheCountersAndValidates() throws {
        var d = StatusDocumentTests.document()
        // Control: off is null, and valid.
        let off = try JSONValue.parse(try d.json())
        #expect(off["sync"]?["authentication"] == .null)
        #expect(try JSONSchemaSubset.statusSchema().errors(in: off) == [])
        d.sync.authentication = .init(Self.counters())
        let j = try JSONValue.parse(try d.json())
        #expect(try JSONSchemaSubset.statusSchema().errors(in: j) == [])
        let a = try #require(j["sync"]?["authentication"])
        #expect(a["sealed"] == .integer(9) && a["accepted"] == .integer(8) && a["epochChanges"] == .integer(1))
        #expect(a["refused"]?["notAuthenticated"] == .integer(1))
        #expect(a["refused"]?["badTag"] == .integer(5))
        #expect(a["refused"]?["replay"] == .integer(6))
    }

    @Test func networkStatisticsShowTheBlockOnlyWhenOn() {
        var s = ConntrackdStatistics(internalCache: .init(name: "internal", objects: 0, active: 0, counters: CacheCounters()),
                                     externalCache: .init(name: "external", objects: 0, active: 0, counters: CacheCounters()))
        #expect(!s.network.contains("authentication"))
        s.authentication = Self.counters()
        let text = s.network
        #expect(text.contains("authentication (tandem):\n"))
        for (title, n) in [("Not authenticated", 1), ("Malformed envelope", 2), ("Unknown version", 3), ("Unknown key", 4),
                           ("Bad tag", 5), ("Replayed", 6), ("Accepted", 8), ("Sealed", 9)] {
            let line = text.split(separator: "\n").first { $0.contains(title + ":") }
            #expect(line?.hasSuffix(" \(n)") == true, "\(title)")
        }
    }

    @Test func aConntrackdPeerIsNamedOnceThenSummed() {
        var log = SyncAuthenticationLog()
        var c = SyncAuthenticator.Counters()
        #expect(log.lines(c, peer: "10.99.0.2", now: .zero).isEmpty)
        c.notAuthenticated = 1
        #expect(log.lines(c, peer: "10.99.0.2", now: .zero) == [
            "sync peer 10.99.0.2 sends unauthenticated messages (a conntrackd peer cannot pair with an authenticating Tandem); refusing them",
        ])
        c.notAuthenticated = 500
        #expect(log.lines(c, peer: "10.99.0.2", now: Instant.zero + .seconds(1)).isEmpty)
        c.badTag = 3
        let later = log.lines(c, peer: "10.99.0.2", now: Instant.zero + .seconds(11))
        #expect(later == ["refused 502 sync message(s) claiming to be from 10.99.0.2: 499 unauthenticated, 3 bad tag"])
        #expect(log.lines(c, peer: "10.99.0.2", now: Instant.zero + .seconds(30)).isEmpty)
    }
}
