#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TestSupport

/// `relay`: bench/lossy-sync.sh's impaired sync link. It is the integration tests' own
/// `LossyRelay`, run from the command line: loss, reordering and duplication as the
/// lossy-relay tests meet them, seeded. Runs until SIGTERM or its time is up, then writes
/// its counters as one JSON object to `--counters FILE` (`FILE.ready` marks it listening).
func impairedLink() -> Int32 {
    guard let namespace = option("--namespace"), let listenA = option("--listen-a"), let peerA = option("--peer-a"),
          let listenB = option("--listen-b"), let peerB = option("--peer-b"), let counters = option("--counters") else {
        print("usage: conntrack-bench relay --namespace NS --listen-a IP --peer-a IP --listen-b IP --peer-b IP --counters FILE "
              + "[--port P] [--loss %] [--reorder %] [--duplicate %] [--seed S] [--seconds S]")
        return 2
    }
    let impairment = LossyRelay.Impairment(lossPercent: UInt64(option("--loss") ?? "0") ?? 0,
                                           reorderPercent: UInt64(option("--reorder") ?? "0") ?? 0,
                                           duplicatePercent: UInt64(option("--duplicate") ?? "0") ?? 0)
    // SIGTERM is taken with sigtimedwait, never by a handler.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGTERM)
    sigaddset(&stopSignals, SIGINT)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
    let relay: LossyRelay
    do {
        relay = try LossyRelay(namespace: namespace, port: UInt16(option("--port") ?? "3780") ?? 3780,
                               listenA: listenA, peerA: peerA, listenB: listenB, peerB: peerB, impairment: impairment,
                               seed: UInt64(option("--seed") ?? "1") ?? 1, maximumSeconds: Double(option("--seconds") ?? "300") ?? 300)
    } catch {
        print("relay: \(error)")
        return 1
    }
    FileManager.default.createFile(atPath: counters + ".ready", contents: nil)
    var wait = timespec(tv_sec: 0, tv_nsec: 200_000_000)
    while !relay.counters.expired && sigtimedwait(&stopSignals, nil, &wait) < 0 {}
    relay.stop()
    let c = relay.counters
    let json = "{\"received\":\(c.received),\"dropped\":\(c.dropped),\"reordered\":\(c.reordered),"
        + "\"duplicated\":\(c.duplicated),\"expired\":\(c.expired)}\n"
    FileManager.default.createFile(atPath: counters, contents: Data(json.utf8))
    return 0
}
