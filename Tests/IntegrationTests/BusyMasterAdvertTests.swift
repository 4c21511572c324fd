import Foundation
import TestSupport
import Testing

/// A master whose loop a long kernel job holds keeps advertising from inside it. A's `-c`
/// commit is held 6 s (the test-only TANDEM_TEST_HOLD_QUIET_COMMIT_MS), longer than B's
/// Master_Down_Interval (3.6 s), as a dump of a million flows holds it: B stays BACKUP. The
/// control, without adverts from inside the job (TANDEM_TEST_NO_KEEP_ADVERTISING), lets B
/// take over while A is busy.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack"))
struct BusyMasterAdvertTests {
    @Test(arguments: [true, false]) func aMasterBusyWithALongJobKeepsItsBackupBackup(keepsAdvertising: Bool) throws {
        let pair = try RunPair(tag: keepsAdvertising ? "bma" : "bmc", prefix: "tdbm", subnet: "10.80.0",
                               environmentA: ["TANDEM_TEST_HOLD_QUIET_COMMIT_MS=6000"] + (keepsAdvertising ? [] : ["TANDEM_TEST_NO_KEEP_ADVERTISING=1"]))
        defer { pair.remove() }
        let (a, b) = (pair.a, pair.b)
        let masterLines = { Vectors.readText(b.log).components(separatedBy: "Entering MASTER STATE").count - 1 }
        let before = masterLines()
        let commit = a.namespace.run([Shell.tandem, "conntrackd", "-C", a.directory + "/conntrackd.conf", "-c"], timeout: 30)
        try #require(commit.status == 0, "-c: \(commit.stderr)")
        let logA = Vectors.readText(a.log)
        let took = logA.components(separatedBy: "commit has taken ").last
            .flatMap { Double($0.prefix { $0 != " " }) } ?? 0
        try #require(took >= 6, "A's commit was not held\n\(logA.suffix(3000))")
        // Past B's Master_Down_Interval after the commit, had A's adverts stopped at its end.
        usleep(1_000_000)
        let becameMaster = masterLines() - before
        if keepsAdvertising {
            #expect(becameMaster == 0, "B took over while A was busy\nB:\n\(Vectors.readText(b.log).suffix(3000))")
            #expect(a.holdsVIP)
        } else {
            #expect(becameMaster >= 1, "B never took over: the control cannot fail the test\nB:\n\(Vectors.readText(b.log).suffix(3000))")
        }
    }
}
