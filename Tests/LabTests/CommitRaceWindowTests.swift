import Foundation
@testable import Lab
import Testing

/// The race window starts when the new master can first have held a VIP, not when the
/// watcher's sample saw it: a sample takes a dump and a 10-ms sleep, and under CI load a
/// server's reset was logged 5 ms before the sample that saw the VIPs move, which left a
/// seed race unrecognised (LabTests.tandemSplitSurvivesStop failed). The control: with no
/// slack before the sample (`notBefore` equal to its time) the same reset is unexplained.
@Suite struct CommitRaceWindowTests {
    /// 2026-12-05T00:00:00Z.
    static let t0 = 1_796_428_800.0

    static func report(notBefore: Double, log path: String) throws -> FailoverReport {
        try "2026-12-05T00:00:10.050Z tandem[1]: (P) master actions: committed 10 flows (0 failed) in 40.0 ms\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        var ssh = SessionRecord(name: "ssh-1", kind: .tcp)
        ssh.arrivals = stride(from: t0 + 8, through: t0 + 9.9, by: 0.05).map { $0 }
        ssh.serverResetAt = t0 + 10.003
        ssh.fail(.rst, at: t0 + 10.004)
        let history = [
            VIPWatcher.Change(time: t0, fw: .fw1, holding: VIPHolding(lan: true, wan: true), notBefore: t0),
            VIPWatcher.Change(time: t0, fw: .fw2, holding: VIPHolding(lan: false, wan: false), notBefore: t0),
            VIPWatcher.Change(time: t0 + 10.008, fw: .fw2, holding: VIPHolding(lan: true, wan: true), notBefore: notBefore),
        ]
        let settings = LabSettings(stack: .tandemRun, sync: true, advertInterval: 1, tandem: "/t", startedAt: t0)
        return FailoverReport(settings: settings, options: FailoverOptions(), phases: [Phase(name: "failover", action: t0 + 9, end: t0 + 17)],
                              actions: ["stop fw1"], notes: [], records: [ssh], vipHistory: history,
                              takeovers: [TakeoverLog(names: try LabNames(prefix: "tdt-rw-"), flavor: .tandemRun, fw: .fw2, logPath: path)])
    }

    @Test(arguments: [true, false]) func aResetJustBeforeTheSampleIsTheRace(sampleSlack: Bool) throws {
        let path = NSTemporaryDirectory() + "tdt-racewin-\(getpid())-\(sampleSlack).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Self.report(notBefore: sampleSlack ? Self.t0 + 9.995 : Self.t0 + 10.008, log: path)
        let race = r.commitRace(0)
        if sampleSlack {
            #expect(race?.caught == ["ssh-1"], "\(String(describing: race))")
        } else {
            #expect(race == nil, "\(String(describing: race))")
        }
    }
}
