import Foundation
import TestSupport
import Testing

/// `-G expect` and `-L expect -o xml[,timestamp]` against conntrack 1.4.7 byte for byte
/// (output, messages, exit status), with an FTP expectation in a namespace of its own.
/// Each command is also run where it must fail (no such expectation, a missing or an
/// illegal option), so a Tandem that printed nothing or refused everything would differ.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct ConntrackExpectTableTests {
    static let expected = ["-p", "tcp", "-s", "10.2.2.2", "-d", "10.1.1.1", "--sport", "0", "--dport", "40036"]
    static let ports = ["--reply-port-src", "1", "--reply-port-dst", "2"]

    static let commands: [[String]] = [
        ["-L", "expect", "-o", "xml"],
        ["-L", "expect", "-o", "xml,timestamp"],
        ["-L", "expect", "-o", "timestamp"],
        ["-G", "expect"] + expected + ports,
        ["-G", "expect"] + expected + ports + ["-r", "10.9.9.9", "-q", "10.8.8.8"],
        // No such expectation: a port off by one.
        ["-G", "expect", "-p", "tcp", "-s", "10.2.2.2", "-d", "10.1.1.1", "--sport", "0", "--dport", "40037"] + ports,
        // conntrack's option rules for -G expect, in its order.
        ["-G", "expect"] + expected,
        ["-G", "expect"] + expected + ["--reply-port-src", "1"],
        ["-G", "expect", "-p", "tcp", "-d", "10.1.1.1", "--sport", "0", "--dport", "40036"] + ports,
        ["-G", "expect", "-s", "10.2.2.2", "-d", "10.1.1.1"],
        ["-G", "expect"] + expected + ports + ["-o", "xml"],
        ["-G", "expect"] + expected + ports + ["-t", "10"],
        ["-G", "expect"] + expected + ports + ["--tuple-src", "10.2.2.2"],
        ["-G", "expect"] + expected + ports + ["-f", "ipv4"],
        ["-G", "expect"] + expected + ports + ["--state", "ESTABLISHED"],
    ]

    /// `-o timestamp`'s `[sec.usec]` is the moment of printing: the same shape, never the same digits.
    static func normalised(_ s: String) -> String {
        s.replacingOccurrences(of: #"(?m)^\[\d+\.\d+ *\]\t"#, with: "[time]\t", options: .regularExpression)
    }

    /// Timeouts and the printed time tick once a second: equal output must show within a few tries.
    static func same(_ ns: TestNamespace, _ argv: [String]) -> (Bool, String) {
        var last = ""
        for _ in 0..<5 {
            var ours = ns.tandem(["conntrack"] + argv)
            var theirs = ns.run(["conntrack"] + argv)
            ours.stdout = normalised(ours.stdout)
            theirs.stdout = normalised(theirs.stdout)
            last = "--- tandem (\(ours.status))\n\(ours.stdout)\(ours.stderr)--- conntrack (\(theirs.status))\n\(theirs.stdout)\(theirs.stderr)"
            if ours.stdout == theirs.stdout && ours.stderr == theirs.stderr && ours.status == theirs.status { return (true, last) }
        }
        return (false, last)
    }

    @Test func expectTableCommandsMatchConntrack() throws {
        let ns = try TestNamespace("xget", prefix: "tdxg")
        defer { ns.remove() }
        // The empty table first: no XML header for nothing, a get that finds nothing.
        for argv in [Self.commands[0], Self.commands[3]] {
            let (same, text) = Self.same(ns, argv)
            #expect(same, "\(argv.joined(separator: " ")) (empty table)\n\(text)")
        }
        try ConntrackdInteropTests.makeFTPExpectation(in: ns)
        for argv in Self.commands {
            let (same, text) = Self.same(ns, argv)
            #expect(same, "\(argv.joined(separator: " "))\n\(text)")
        }
        // What the comparison rests on: the get finds the expectation, the miss does not,
        // the XML carries the time.
        let found = ns.tandem(["conntrack"] + Self.commands[3])
        #expect(found.status == 0 && found.stdout.contains("dport=40036") && found.stdout.contains("helper=ftp"), "\(found)")
        let missed = ns.tandem(["conntrack"] + Self.commands[5])
        #expect(missed.status == 1 && missed.stdout.isEmpty, "\(missed)")
        let xml = ns.tandem(["conntrack"] + Self.commands[1]).stdout
        #expect(xml.hasPrefix("<?xml") && xml.contains("<when><hour>") && xml.hasSuffix("</expect>\n"), "\(xml)")
        let stamped = ns.tandem(["conntrack"] + Self.commands[2]).stdout
        #expect(stamped.range(of: #"^\[\d+\.\d+ *\]\t\d+ proto=6 "#, options: .regularExpression) != nil, "\(stamped)")
    }
}
