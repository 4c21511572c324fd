import Conntrack
import Foundation
import Netlink
import TestSupport
import Testing

@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct EventTests {
    /// `tandem conntrack -E` and `conntrack -E`, listening side by side, print the same
    /// NEW / UPDATE / DESTROY lines for the same changes.
    @Test func eventsMatchConntrack() throws {
        let ns = try TestNamespace("events")
        defer { ns.remove() }
        let dir = NSTemporaryDirectory() + "tdt-ev-\(getpid())-"
        let ours = try ns.start([Shell.tandem, "conntrack", "-E"], stdout: dir + "ours.out", stderr: dir + "ours.err")
        let theirs = try ns.start(["conntrack", "-E"], stdout: dir + "theirs.out", stderr: dir + "theirs.err")
        defer { ours.stop(); theirs.stop() }
        usleep(500_000) // both subscribe before the first change
        ns.run(["conntrack", "-I", "-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1", "--dport", "2",
                "--state", "SYN_SENT", "-t", "50"])
        ns.run(["conntrack", "-I", "-p", "udp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "3", "--dport", "4", "-t", "50"])
        _ = ns.tandem(["conntrack", "-U", "-p", "tcp", "-m", "5"])
        ns.run(["conntrack", "-D", "-p", "udp"])
        usleep(500_000)
        for p in [ours, theirs] { p.interrupt() }
        let ourStatus = ours.wait()
        theirs.wait()
        let a = try String(contentsOfFile: dir + "ours.out", encoding: .utf8)
        let b = try String(contentsOfFile: dir + "theirs.out", encoding: .utf8)
        #expect(a.contains("    [NEW] tcp"))
        #expect(a.contains(" [UPDATE] tcp"))
        #expect(a.contains("[DESTROY] udp"))
        // progname= is resolved through /proc and only found while the changing process
        // still runs, so it is a race in both tools; everything else must be equal.
        func withoutProgram(_ s: String) -> String {
            s.split(separator: "\n").map { line in
                line.split(separator: " ").filter { !$0.hasPrefix("progname=") }.joined(separator: " ")
            }.joined(separator: "\n")
        }
        #expect(withoutProgram(a) == withoutProgram(b), "--- tandem\n\(a)--- conntrack\n\(b)")
        #expect(a.contains("[USERSPACE] portid="))
        let summary = try String(contentsOfFile: dir + "ours.err", encoding: .utf8)
        #expect(summary.contains("conntrack v1.4.7 (conntrack-tools): 4 flow events have been shown."), "\(summary)")
        #expect(ourStatus == 0)
        for f in ["ours.out", "ours.err", "theirs.out", "theirs.err"] { try? FileManager.default.removeItem(atPath: dir + f) }
    }

    /// The same with `-o xml`.
    @Test func xmlEventsMatchConntrack() throws {
        let ns = try TestNamespace("xmlev")
        defer { ns.remove() }
        let dir = NSTemporaryDirectory() + "tdt-xev-\(getpid())-"
        defer { for f in ["ours.out", "ours.err", "theirs.out", "theirs.err"] { try? FileManager.default.removeItem(atPath: dir + f) } }
        let ours = try ns.start([Shell.tandem, "conntrack", "-E", "-o", "xml"], stdout: dir + "ours.out", stderr: dir + "ours.err")
        let theirs = try ns.start(["conntrack", "-E", "-o", "xml"], stdout: dir + "theirs.out", stderr: dir + "theirs.err")
        defer { ours.stop(); theirs.stop() }
        usleep(500_000)
        ns.run(["conntrack", "-I", "-p", "udp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "3", "--dport", "4", "-t", "50"])
        ns.run(["conntrack", "-D", "-p", "udp"])
        usleep(500_000)
        ours.interrupt(); theirs.interrupt()
        ours.wait(); theirs.wait()
        func withoutProgram(_ s: String) -> String {
            s.split(separator: "\n").map { $0.split(separator: " ").filter { !$0.hasPrefix("progname=") }.joined(separator: " ") }
                .joined(separator: "\n")
        }
        let a = withoutProgram(try String(contentsOfFile: dir + "ours.out", encoding: .utf8))
        let b = withoutProgram(try String(contentsOfFile: dir + "theirs.out", encoding: .utf8))
        #expect(a.contains("<flow type=\"new\">") && a.contains("<flow type=\"destroy\">"))
        #expect(a == b, "--- tandem\n\(a)\n--- conntrack\n\(b)")
    }

    /// A burst larger than the socket buffer is reported as an overrun, never lost silently.
    @Test func burstBeyondTheBufferIsAnOverrun() throws {
        let ns = try TestNamespace("overrun")
        defer { ns.remove() }
        let listener = try ConntrackEventListener(
            events: .flows, namespace: ns.name, bufferPolicy: ReceiveBufferPolicy(initial: 4096, maximum: 4096))
        let connection = try ConntrackConnection(namespace: ns.name)
        let flows = TestFlows.udp(5000)
        let r = try connection.create(flows, acknowledge: false)
        #expect(r.succeeded == 5000 && r.failed == 0)
        var events: [ConntrackEvent] = []
        for _ in 0..<20 {
            let batch = try listener.poll(timeoutMilliseconds: 100)
            if batch.isEmpty { break }
            events += batch
        }
        let overruns = events.filter { if case .overrun = $0 { true } else { false } }.count
        let delivered = events.filter { if case .flow = $0 { true } else { false } }.count
        #expect(overruns >= 1)
        #expect(listener.counters.overruns == overruns)
        #expect(delivered < 5000)
        #expect(listener.counters.flows == delivered)
    }

    /// The control: with a buffer big enough for the burst nothing is lost and no overrun
    /// is reported.
    @Test func burstWithinTheBufferIsComplete() throws {
        let ns = try TestNamespace("nooverrun")
        defer { ns.remove() }
        let listener = try ConntrackEventListener(
            events: [.new], namespace: ns.name, bufferPolicy: ReceiveBufferPolicy(initial: 32 << 20, maximum: 32 << 20))
        let connection = try ConntrackConnection(namespace: ns.name)
        let flows = TestFlows.udp(5000)
        _ = try connection.create(flows, acknowledge: false)
        var delivered = 0
        for _ in 0..<50 {
            let batch = try listener.poll(timeoutMilliseconds: 100)
            if batch.isEmpty { break }
            delivered += batch.count
        }
        #expect(listener.counters.overruns == 0)
        #expect(delivered == 5000)
    }
}
