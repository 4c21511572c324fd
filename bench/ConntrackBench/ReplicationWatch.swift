#if canImport(Glibc)
import Glibc
#endif
import Daemon

/// `conntrack-bench watch --receiver B.ctl --sender A.ctl --target N --since T [--timeout S]`
///
/// Times replication from outside, the same way for either implementation: every 10 ms it
/// asks the receiver's control socket (`-s`, which conntrackd and Tandem both answer) for
/// its external cache's size, and every 100 ms the sender's for its internal cache's. It
/// stops when the receiver holds `target` flows (complete), when the sender's own count
/// has stood still for 3 s below `target` and the receiver holds as many (sender-short:
/// the sender missed kernel events), or at the timeout (limit). The time is from `since`
/// (CLOCK_REALTIME seconds, taken before the flows were made) to the sample at which
/// the receiver's count last changed. UNIX sockets are reached from any namespace.
func replicationWatch(_ args: [String]) -> Int32 {
    func value(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    guard let receiver = value("--receiver"), let sender = value("--sender"), let target = value("--target").flatMap({ Int($0) }),
          let since = value("--since").flatMap({ Double($0) }) else {
        print("usage: conntrack-bench watch --receiver SOCKET --sender SOCKET --target N --since EPOCH_SECONDS [--timeout S]")
        return 2
    }
    let timeout = value("--timeout").flatMap { Double($0) } ?? 150
    func wall() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    func count(_ path: String, cache: String) -> Int? {
        guard let text = try? ControlServer.request(path: path, code: ControlRequest.statistics.rawValue) else { return nil }
        var inCache = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("cache ") { inCache = line.hasPrefix("cache \(cache)") }
            if inCache, line.hasPrefix("current active connections:") {
                return line.split(separator: "\t").last.flatMap { Int($0.filter { $0 != " " }) }
            }
        }
        return nil
    }
    var have = -1, lastChange = wall(), senderHas = -1, senderSince = wall(), samples = 0, failedSamples = 0
    var outcome = "limit"
    while wall() - since < timeout {
        let t = wall()
        if let c = count(receiver, cache: "external") {
            if c != have { have = c; lastChange = t }
        } else {
            failedSamples += 1
        }
        if have >= target { outcome = "complete"; break }
        if samples % 10 == 0, let s = count(sender, cache: "internal") {
            if s != senderHas { senderHas = s; senderSince = t }
            if senderHas < target, t - senderSince >= 3, have >= senderHas { outcome = "sender-short"; break }
        }
        samples += 1
        usleep(10_000)
    }
    if senderHas < 0 || outcome == "complete" { senderHas = count(sender, cache: "internal") ?? senderHas }
    print("outcome=\(outcome) have=\(have) sender_has=\(senderHas) secs=\(Double(Int((lastChange - since) * 1000)) / 1000) samples=\(samples) failed_samples=\(failedSamples)")
    return 0
}
