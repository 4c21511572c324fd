import Foundation
import TestSupport
import Testing

/// A master whose loop a long kernel job holds keeps advertising from inside it. A's `-c`
/// commit is held 6 s (the test-only TANDEM_TEST_HOLD_QUIET_COMMIT_MS), longer than B's
/// Master_Down_Interval (3.6 s), as a dump of a million flows holds it: B stays BACKUP. The
/// control, without adverts from inside the job (TANDEM_TEST_NO_KEEP_ADVERTISING), lets B
/// take over while A is busy.
///
/// The other side: a backup busy with a long job reads its master's adverts from inside
/// it, so its down timer counts from the master's last advert. B's `-c` commit is held
/// 8 s and A is killed 1.5 s into it: B's Master_Down_Interval (3.6 s) has run out when
/// the job ends, and B takes over at once. The control (TANDEM_TEST_NO_BUSY_ADVERT_READ)
/// reads A's queued adverts only after the job, restarts its timer, and takes over a
/// whole Master_Down_Interval later (the 3-s line between the two is nearly the
/// interval either side: neither case is near it).
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

    @Test(arguments: [true, false]) func aBackupBusyWithALongJobHearsItsMasterStop(readsAdverts: Bool) throws {
        let pair = try RunPair(tag: readsAdverts ? "bbr" : "bbn", prefix: "tdbm", subnet: "10.80.0",
                               environmentB: ["TANDEM_TEST_HOLD_QUIET_COMMIT_MS=8000"] + (readsAdverts ? [] : ["TANDEM_TEST_NO_BUSY_ADVERT_READ=1"]))
        defer { pair.remove() }
        let b = pair.b
        let commit = try b.namespace.start([Shell.tandem, "conntrackd", "-C", b.directory + "/conntrackd.conf", "-c"],
                                           stdout: pair.base + "/commit.out", stderr: pair.base + "/commit.err")
        defer { commit.stop() }
        usleep(1_500_000)
        // Killed, not stopped: no priority-0 advert, so only B's down timer can notice.
        pair.nodeA?.signal(SIGKILL)
        pair.nodeA?.wait(timeout: 5)
        try #require(commit.wait(timeout: 30) == 0, "-c: \(Vectors.readText(pair.base + "/commit.err"))")
        let ended = Date()
        let logB = { Vectors.readText(b.log) }
        let took = logB().components(separatedBy: "commit has taken ").last.flatMap { Double($0.prefix { $0 != " " }) } ?? 0
        try #require(took >= 8, "B's commit was not held\n\(logB().suffix(3000))")
        // The state, not the VIP: the hold applies to the promotion's commit too.
        try #require(FailoverNodeTests.waitUntil(15) { logB().contains("Entering MASTER STATE") }, "B never took over\n\(logB().suffix(3000))")
        let after = Date().timeIntervalSince(ended)
        if readsAdverts {
            #expect(after < 3, "B took over \(after) s after its job: its timer restarted there\n\(logB().suffix(3000))")
        } else {
            #expect(after >= 3, "B took over \(after) s after its job without reading adverts in it: the control cannot fail the test")
        }
    }
}
