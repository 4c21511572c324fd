// conntrack-bench: times Tandem's batched ctnetlink paths the way ctbulk times the C ones,
// on the same flow set (entry i: 10.64.0.1+i:40000 → 172.20.0.1:80, TCP ESTABLISHED,
// ASSURED). Run inside a namespace; prints one key=value line per operation.
#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import Netlink
import IPAddressing

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func maxRSSKiB() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss
}

/// Generated on demand: the batched paths take any collection, so memory stays flat
/// however many flows go through.
func flows(_ n: Int, base: Int) -> LazyMapSequence<Range<Int>, Flow> {
    (0..<n).lazy.map { i in
        var f = Flow(original: Tuple(source: .v4(0x0a40_0001 &+ UInt32(base + i)), destination: .v4(0xac14_0001),
                                     protocolNumber: IPProtocolNumber.tcp, sourcePort: 40000, destinationPort: 80))
        f.timeout = 600
        f.status = [.seenReply, .assured]
        f.protocolInfo = .tcp(TCPInfo(state: .established))
        return f
    }
}

let args = Array(CommandLine.arguments.dropFirst())
guard let op = args.first else {
    print("usage: conntrack-bench insert N [--batch B] [--ack] [--base K] | dump | delete N [--batch B] [--base K] | flush | watch … | listen-destroy [--seconds S] | read-events --target N [--seconds S] [--rest-us R] [--relay IPv4:PORT [--event-bytes B]] | relay --namespace NS … | profile-commit N | profile-auth [PAYLOAD]")
    exit(2)
}
func option(_ name: String) -> String? {
    args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil }
}
if op == "watch" { exit(replicationWatch(args)) }
if op == "listen-destroy" { exit(listenDestroy(args)) }
if op == "read-events" { exit(readEvents()) }
if op == "relay" { exit(impairedLink()) }
if op == "profile-auth" { exit(profileAuth(args.count > 1 ? Int(args[1]) ?? 1400 : 1400)) }
if op == "profile-commit" { exit(profileCommit(args.count > 1 ? Int(args[1]) ?? 100_000 : 100_000)) }
let n = args.count > 1 ? Int(args[1]) ?? 0 : 0
let batch = Int(option("--batch") ?? "1000") ?? 1000
let ack = args.contains("--ack")
// --base K: the set starts at entry K (10.64.0.1+K), so a second insert adds new flows.
let base = Int(option("--base") ?? "0") ?? 0

do {
    let c = try ConntrackConnection(batchSize: batch)
    switch op {
    case "insert":
        let set = flows(n, base: base)
        let t0 = now()
        let r = try c.create(set, acknowledge: ack)
        let dt = now() - t0
        print("op=insert n=\(n) batch=\(batch) ack=\(ack ? 1 : 0) ok=\(r.succeeded) failed=\(r.failed) secs=\(dt) rate=\(Int(Double(n) / dt)) maxrss_kib=\(maxRSSKiB())")
    case "dump":
        var count = 0
        let t0 = now()
        try c.dump { _ in count += 1 }
        let dt = now() - t0
        print("op=dump n=\(count) secs=\(dt) rate=\(Int(Double(count) / dt)) maxrss_kib=\(maxRSSKiB())")
    case "delete":
        let set = flows(n, base: base)
        let t0 = now()
        let r = try c.delete(set, acknowledge: ack)
        let dt = now() - t0
        print("op=delete n=\(n) batch=\(batch) ok=\(r.succeeded) failed=\(r.failed) secs=\(dt) rate=\(Int(Double(n) / dt)) maxrss_kib=\(maxRSSKiB())")
    case "flush":
        let t0 = now()
        try c.flush()
        print("op=flush secs=\(now() - t0)")
    default:
        print("unknown operation \(op)")
        exit(2)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
