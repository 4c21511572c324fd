import Foundation
import TestSupport
import Testing

/// Replication lag against live daemons: the master follows sampled flows to the peer's
/// ACK and shows the figure in `tandem status` (text and JSON). A Tandem backup acknowledges
/// within 5 ms; a conntrackd 1.4.7 backup acknowledges late, but it does acknowledge, so the
/// figure exists with it too. Control: before any flow is replicated there is no sample.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("conntrack"), "needs root, conntrackd and conntrack"))
struct ReplicationLagTests {
    typealias Pair = ConntrackdInteropTests.Pair

    @Test(arguments: [ConntrackdInteropTests.Implementation.tandem, .reference])
    func theMasterMeasuresHowFarBehindItsPeerIs(backup: ConntrackdInteropTests.Implementation) throws {
        let pair = try Pair(backup == .tandem ? "rlag" : "rlagc", a: .tandem, b: backup)
        defer { pair.stop() }
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: "\(pair.dir)/a.ctl") })
        let config = "\(pair.dir)/a.conf"
        let before = try StatusJSONTests.status(pair.a, config: config)
        let lagBefore = try #require(before["sync"]?["replicationLag"]?.object, "\(before)")
        #expect(lagBefore["samples"]?.int == 0)
        #expect(lagBefore["lastMs"] == .null && lagBefore["recent"] == .null)

        // Flows a probe interval apart, so more than one is followed. A flow made while the
        // last one is still followed is not: with a Tandem backup the next waits for its
        // sample (a loaded machine once held an ACK back for 0.9 s, and the four flows were
        // followed as one).
        func samples() -> Int64 {
            (try? StatusJSONTests.status(pair.a, config: config))?["sync"]?["replicationLag"]?["samples"]?.int ?? 0
        }
        for f in ConntrackdInteropTests.flows {
            let before = backup == .tandem ? samples() : 0
            pair.a.run(["conntrack", "-I"] + f)
            Thread.sleep(forTimeInterval: 0.15)
            if backup == .tandem { _ = pair.eventually(5) { samples() > before } }
        }
        var after = before
        #expect(pair.eventually(15) {
            after = (try? StatusJSONTests.status(pair.a, config: config)) ?? after
            // conntrackd acknowledges the four flows together, a second or more later: one sample.
            return (after["sync"]?["replicationLag"]?["samples"]?.int ?? 0) >= (backup == .tandem ? 2 : 1)
        }, "\(after)")
        let lag = try #require(after["sync"]?["replicationLag"]?.object)
        #expect(lag["lastMs"]?.double != nil && lag["lastAgeMs"]?.int != nil)
        let recent = try #require(lag["recent"]?.object, "\(lag)")
        let median = recent["medianMs"]?.double ?? -1, p99 = recent["p99Ms"]?.double ?? -1
        #expect(median > 0 && median <= p99 && p99 <= (recent["maxMs"]?.double ?? -1), "\(recent)")
        let text = pair.a.run([Shell.tandem, "status", "-C", config])
        #expect(text.stdout.contains("replication lag: the peer is "), "\(text.stdout)")
    }
}
