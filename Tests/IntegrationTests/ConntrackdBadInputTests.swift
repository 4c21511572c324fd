import Foundation
import Netlink
import TestSupport
import Testing

/// Malformed control requests and random sync datagrams against a running Tandem
/// daemon: counters and log lines, no crash, and replication carries on.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("conntrack"), "needs root, conntrackd and conntrack"))
struct ConntrackdBadInputTests {
    typealias Pair = ConntrackdInteropTests.Pair

    /// Connects to the control socket, writes `bytes`, then either closes at once or
    /// reads the answer until the daemon closes (bounded by a 5 s receive timeout).
    static func raw(_ path: String, _ bytes: [UInt8], read: Bool, holdOpen: Double = 0) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
        if holdOpen > 0 { usleep(UInt32(holdOpen * 1_000_000)) }
        guard read else { return "" }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func code(_ c: Int32) -> [UInt8] { withUnsafeBytes(of: c) { Array($0) } }

    static func runtimeCounter(_ text: String, _ label: String) -> Int? {
        text.split(separator: "\n").first { $0.contains(label) }
            .flatMap { $0.split(separator: "\t").last.map { Int($0.trimmingCharacters(in: .whitespaces)) } } ?? nil
    }

    /// A kernel dump that fails (injected into the daemon's first dump after start-up) costs
    /// the request that needed it, not the daemon: the failure is logged and counted, and
    /// the daemon keeps answering and replicating. The control: the same request, once the
    /// fault is spent, succeeds.
    @Test func aFailedKernelDumpEndsOnlyItsRequest() throws {
        var extra = Pair.Extra()
        extra.tandemEnvironment = ["TANDEM_TEST_FAIL_KERNEL_DUMPS=1"]
        let pair = try Pair("dumpfail", a: .tandem, b: .tandem, extra: extra)
        defer { pair.stop() }
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: "\(pair.dir)/b.ctl") })
        usleep(500_000)
        let log = { (try? String(contentsOfFile: "\(pair.dir)/b.log", encoding: .utf8)) ?? "" }
        _ = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-R"])
        #expect(pair.eventually(5) { log().contains("local request resyncAllKernel failed: injected fault") }, "\(log())")
        let status = pair.b.run([Shell.tandem, "status", "--conntrackd-config", "\(pair.dir)/b.conf"])
        #expect(status.stdout.contains("errors recovered: 1 control request"), "\(status.stdout)\(status.stderr)")
        _ = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-R"])
        usleep(300_000)
        #expect(log().components(separatedBy: "resync with master conntrack table").count == 3, "\(log())")
        #expect(log().components(separatedBy: "injected fault").count == 2, "the control request failed too: \(log())")
        for f in ConntrackdInteropTests.flows { pair.a.run(["conntrack", "-I"] + f) }
        #expect(pair.eventually { pair.query("b", ["-e"]) == ConntrackdInteropTests.expectedLines })
    }

    /// A broken event socket (its descriptor turned into /dev/null after start-up, so every
    /// read fails) is replaced by a fresh one: flows made afterwards reach the peer through
    /// kernel events again, not only through the re-read that follows every failure. The
    /// old answer, a re-read alone, left the daemon reading no event at all (events received
    /// stayed 0), which the last expectation would catch.
    @Test func aBrokenEventSocketIsReopened() throws {
        var extra = Pair.Extra()
        extra.tandemEnvironment = ["TANDEM_TEST_BREAK_EVENT_SOCKET=1"]
        let pair = try Pair("evbrk", a: .tandem, b: .tandem, extra: extra)
        defer { pair.stop() }
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: "\(pair.dir)/a.ctl") })
        usleep(1_500_000)
        let log = { Vectors.readText("\(pair.dir)/a.log") }
        #expect(pair.eventually(5) { log().contains("kernel event socket reopened") }, "\(log())")
        for f in ConntrackdInteropTests.flows { pair.a.run(["conntrack", "-I"] + f) }
        #expect(pair.eventually { pair.query("b", ["-e"]) == ConntrackdInteropTests.expectedLines }, "\(log())")
        let status = pair.a.run([Shell.tandem, "status", "--conntrackd-config", "\(pair.dir)/a.conf"]).stdout
        #expect(status.contains("errors recovered: 1 event socket"), "\(status)")
        let runtime = pair.a.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/a.conf", "-s", "runtime"]).stdout
        let received = runtime.split(separator: "\n").first { $0.contains("events received:") }
            .flatMap { Int($0.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") } ?? 0
        #expect(received >= ConntrackdInteropTests.flows.count, "\(runtime)")
    }

    @Test func malformedControlRequestsAreCountedAndLogged() throws {
        let pair = try Pair("bad", a: .tandem, b: .tandem)
        defer { pair.stop() }
        let path = "\(pair.dir)/b.ctl"
        #expect(pair.eventually(5) { FileManager.default.fileExists(atPath: path) })
        usleep(500_000)
        #expect(Self.raw(path, [], read: false) != nil)                 // closes before sending
        #expect(Self.raw(path, [0x15, 0x00], read: false) != nil)       // 2 of 4 bytes
        #expect(Self.raw(path, Self.code(99), read: true) == "")         // unknown code: no answer
        #expect(Self.raw(path, [0x41, 0x41, 0x41, 0x41], read: true) == "")
        #expect(Self.raw(path, Self.code(21), read: false) != nil)      // asks for -s, never reads it
        // A client that never sends holds nothing up: -s is answered meanwhile.
        let silent = Thread { _ = Self.raw(path, [], read: false, holdOpen: 2) }
        silent.start()
        usleep(200_000)
        let started = Date()
        let stats = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-s"])
        #expect(stats.stdout.contains("cache internal:"))
        #expect(Date().timeIntervalSince(started) < 1.5)
        usleep(2_500_000)
        let runtime = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-s", "runtime"]).stdout
        #expect(Self.runtimeCounter(runtime, "local read failed") == 3, "\(runtime)")
        #expect(Self.runtimeCounter(runtime, "local unknown request") == 2, "\(runtime)")
        let log = (try? String(contentsOfFile: "\(pair.dir)/b.log", encoding: .utf8)) ?? ""
        #expect(log.contains("unknown local request 99"))
        #expect(log.contains("local request failed: short request: 2 of 4 bytes"))
        #expect(log.contains("local request failed: request not complete after 1 s"))
        // Still alive, still replicating.
        for f in ConntrackdInteropTests.flows { pair.a.run(["conntrack", "-I"] + f) }
        #expect(pair.eventually { pair.query("b", ["-e"]) == ConntrackdInteropTests.expectedLines })
    }

    /// Random datagrams from a stranger on the sync link and from the peer's own address
    /// arrive while real state does: every real flow still arrives.
    @Test func randomSyncDatagramsNeverCostValidOnes() throws {
        let pair = try Pair("rnd", a: .tandem, b: .tandem)
        defer { pair.stop() }
        let dev = "tdx\(getpid() % 100000)a"
        #expect(pair.a.run(["ip", "addr", "add", "172.31.77.9/24", "dev", dev]).status == 0)
        usleep(1_500_000)
        let senders = try NetworkNamespace.run(named: pair.a.name) { () -> [Int32] in
            ["172.31.77.9", "172.31.77.1"].map { source in
                let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET)
                inet_pton(AF_INET, source, &a.sin_addr)
                _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                return fd
            }
        }
        defer { for fd in senders { close(fd) } }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(3780).bigEndian
        inet_pton(AF_INET, "172.31.77.2", &target.sin_addr)
        var rng = SplitMix64(seed: 3780)
        func spray(_ count: Int) {
            for i in 0..<count {
                let bytes = (0..<Int(1 + rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                _ = bytes.withUnsafeBytes { raw in
                    withUnsafePointer(to: &target) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(senders[i % 2], raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
        }
        spray(500)
        for f in ConntrackdInteropTests.flows {
            pair.a.run(["conntrack", "-I"] + f)
            spray(250)
        }
        var last: [String] = []
        #expect(pair.eventually { last = pair.query("b", ["-e"]); return last == ConntrackdInteropTests.expectedLines }, "\(last)")
        let stats = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-s"]).stdout
        let network = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-s", "network"]).stdout
        #expect(ConntrackdLossTests.counter(stats, "Not from peer").map { $0 > 0 } == true, "\(stats)")
        #expect((Self.runtimeCounter(network, "Malformed messages") ?? 0) > 0, "\(network)")
    }
}
