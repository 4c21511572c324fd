#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Netlink

/// `conntrack-bench read-events --target N [--seconds S] [--rest-us R] [--ring]`
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
///
/// With `--relay IPv4:PORT [--event-bytes B]` it also sends what a sync sender must: B
/// bytes per event (default 76, what `tandem conntrackd` averaged per flow on the wire),
/// packed into UDP datagrams of at most 1,400 bytes of payload, sent after each read: so
/// its CPU is the kernel's price of taking the events in and putting the replication out,
/// with no cache, no encoding and no protocol.
///
/// With `--ring` the events come through an event ring (`EventRing`, as `tandem conntrackd`
/// reads them by default) instead of the socket.
func readEvents() -> Int32 {
    guard let target = option("--target").flatMap(Int.init), target > 0 else {
        print("usage: conntrack-bench read-events --target N [--seconds S] [--rest-us R] [--ring] [--relay IPv4:PORT [--event-bytes B]]")
        return 2
    }
    let seconds = option("--seconds").flatMap(Double.init) ?? 300
    let rest = option("--rest-us").flatMap(UInt32.init) ?? 500
    let eventBytes = option("--event-bytes").flatMap(Int.init) ?? 76
    var relay: Relay?
    if let to = option("--relay") {
        guard let r = Relay(to) else {
            print("error: --relay wants IPv4:PORT, got \(to)")
            return 2
        }
        relay = r
    }
    signal(SIGTERM, stopListening)
    signal(SIGINT, stopListening)
    let listener: ConntrackEventListener
    do {
        listener = try ConntrackEventListener(
            events: .flows, bufferPolicy: ReceiveBufferPolicy(initial: 64 << 20, maximum: 64 << 20))
        if CommandLine.arguments.contains("--ring") { try listener.divert(into: EventRing()) }
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
            if events > before {
                relay?.send(bytes: (events - before) * eventBytes)
                if rest > 0 { usleep(rest) }
            }
        } catch {
            print("error: \(error)")
            return 1
        }
    }
    let cpu = threadCPUMicroseconds() - cpu0
    print("op=read-events target=\(target) rest_us=\(rest) relayed_datagrams=\(relay?.datagrams ?? 0) events=\(events) other=\(other) overruns=\(overruns) cpu_us=\(cpu) ring_bytes=\(listener.ring?.bytes ?? 0) from_ring=\(listener.counters.fromRing) ring_spills=\(listener.ring?.spills ?? 0)")
    return events >= target && overruns == 0 ? 0 : 1
}

private func threadCPUMicroseconds() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int(ts.tv_sec) * 1_000_000 + Int(ts.tv_nsec) / 1000
}

/// The sync traffic a sender would make of a read's events: datagrams of at most 1,400
/// bytes of payload to one UDP address.
private struct Relay {
    static let payload = 1400
    let socket: Int32
    var address = sockaddr_in()
    var buffer = [UInt8](repeating: 0x5A, count: Relay.payload)
    var datagrams = 0

    init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { return nil }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, String(parts[0]), &address.sin_addr) == 1 else { return nil }
        socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { return nil }
    }

    mutating func send(bytes: Int) {
        var left = bytes
        while left > 0 {
            let size = min(left, Self.payload)
            let sent = buffer.withUnsafeBytes { b in
                withUnsafePointer(to: &address) { a in
                    a.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(socket, b.baseAddress, size, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if sent > 0 { datagrams += 1 }
            left -= size
        }
    }
}
