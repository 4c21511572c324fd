#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Netlink

/// `conntrack-bench read-events --target N [--seconds S] [--rest-us R]`
///
/// What reading the kernel's flow events costs before any daemon does anything with them:
/// a socket in the groups a sync daemon joins (NEW, UPDATE, DESTROY) with a 64-MB buffer,
/// read as `tandem conntrackd` reads them (recvmmsg batches; after a read that emptied the
/// socket, a rest of R µs, default 500 as the daemon's event moderation, so a burst is
/// taken in batches rather than an event per wake-up), each message's header looked at and
/// its payload left undecoded. Runs until N flow events have arrived, S seconds (default
/// 300) have passed, or SIGTERM/SIGINT. Beside an inserter, its CPU per event is the floor
/// under any event-driven sender's CPU per flow on this machine and kernel. Prints "ready"
/// once subscribed, then a key=value line with its CPU time (this thread's clock, µs).
func readEvents(_ args: [String]) -> Int32 {
    func value(_ name: String) -> String? {
        args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
    }
    guard let target = value("--target").flatMap(Int.init), target > 0 else {
        print("usage: conntrack-bench read-events --target N [--seconds S] [--rest-us R]")
        return 2
    }
    let seconds = value("--seconds").flatMap(Double.init) ?? 300
    let rest = value("--rest-us").flatMap(UInt32.init) ?? 500
    signal(SIGTERM, stopListening)
    signal(SIGINT, stopListening)
    let listener: ConntrackEventListener
    do {
        listener = try ConntrackEventListener(
            events: .flows, bufferPolicy: ReceiveBufferPolicy(initial: 64 << 20, maximum: 64 << 20))
    } catch {
        print("error: \(error)")
        return 1
    }
    print("ready")
    fflush(nil)
    let cpu0 = threadCPUMicroseconds()
    let deadline = now() + seconds
    var events = 0, overruns = 0, other = 0
    while listeningGoesOn != 0 && events < target && now() < deadline {
        do {
            let before = events
            try listener.poll(timeoutMilliseconds: 100, fastFlow: { _, _, _ in
                events += 1
                return true
            }) { e in
                if case .overrun = e { overruns += 1 } else { other += 1 }
            }
            if events > before && rest > 0 { usleep(rest) }
        } catch {
            print("error: \(error)")
            return 1
        }
    }
    let cpu = threadCPUMicroseconds() - cpu0
    print("op=read-events target=\(target) rest_us=\(rest) events=\(events) other=\(other) overruns=\(overruns) cpu_us=\(cpu)")
    return events >= target && overruns == 0 ? 0 : 1
}

private func threadCPUMicroseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int(ts.tv_sec) * 1_000_000 + Int(ts.tv_nsec) / 1000
}
