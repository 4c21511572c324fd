import Foundation
import TestSupport
import Testing

/// The broken variants of the seed's conntrackd.conf (TestSupport's corpus) fed to the
/// real conntrackd 1.4.7, to show where the verdicts agree and where Tandem is stricter
/// on purpose: each variant's expected reference verdict is checked, and Tandem's
/// verdict on the same file is always a refusal naming the fault's line. The unchanged
/// seed is the control: both start with it.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd"), "needs root and conntrackd"))
struct ConntrackdConfigReferenceTests {
    enum Verdict: Equatable { case starts, syntaxError(line: Int), refuses(String) }

    /// The file as conntrackd can run it in a namespace: its own lock, socket and log,
    /// the link on lo, addresses in this suite's subnet. Line numbers are unchanged.
    static func runnable(_ text: String, dir: String, tag: String) -> String {
        text.replacingOccurrences(of: "/var/lock/conntrack.lock", with: "\(dir)/\(tag).lock")
            .replacingOccurrences(of: "/var/run/conntrackd.ctl", with: "\(dir)/\(tag).ctl")
            .replacingOccurrences(of: "LogFile on", with: "LogFile \(dir)/\(tag).log")
            .replacingOccurrences(of: "172.30.16.", with: "10.235.16.")
            .replacingOccurrences(of: "Interface ens3", with: "Interface lo")
    }

    /// Runs conntrackd on `file` for at most a second. It accepted the file when it got as
    /// far as initialising (whether or not that then worked).
    static func reference(_ ns: TestNamespace, _ file: String) -> Verdict {
        let r = ns.run(["timeout", "1", "conntrackd", "-C", file], timeout: 10)
        let out = r.stdout + r.stderr
        if out.contains("initialization completed") || out.contains("initialization failed") { return .starts }
        if let range = out.range(of: "parsing config file in line (") {
            let digits = out[range.upperBound...].prefix { $0.isNumber }
            return .syntaxError(line: Int(digits) ?? -1)
        }
        return .refuses(out)
    }

    @Test func verdictsBesideConntrackd() throws {
        let ns = try TestNamespace("ref", prefix: "tdn")
        defer { ns.remove() }
        ns.run(["ip", "addr", "add", "10.235.16.1/32", "dev", "lo"])
        let dir = NSTemporaryDirectory() + "/\(ns.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let seed = Self.runnable(ConntrackdConfigCorpus.seed, dir: dir, tag: "seed")
        try seed.write(toFile: "\(dir)/seed.conf", atomically: true, encoding: .utf8)
        #expect(Self.reference(ns, "\(dir)/seed.conf") == .starts, "control: conntrackd starts with the seed")
        let check = ns.tandem(["conntrackd", "--check", "-C", "\(dir)/seed.conf"])
        #expect(check.status == 0, "control: tandem accepts the seed: \(check.stderr)")
        var table = ["| variant | fault line | conntrackd 1.4.7 | tandem |", "|---|---|---|---|"]
        for (i, v) in ConntrackdConfigCorpus.variants.enumerated() {
            let file = "\(dir)/v\(i).conf"
            try Self.runnable(v.text, dir: dir, tag: "v\(i)").write(toFile: file, atomically: true, encoding: .utf8)
            let theirs = Self.reference(ns, file)
            switch v.reference {
            case .starts: #expect(theirs == .starts, "\(v.name): conntrackd \(theirs)")
            case .syntaxErrorSameLine: #expect(theirs == .syntaxError(line: v.line), "\(v.name): conntrackd \(theirs)")
            case .refuses:
                if case .refuses = theirs {} else if case .syntaxError = theirs {} else { Issue.record("\(v.name): conntrackd \(theirs)") }
            }
            let ours = ns.tandem(["conntrackd", "--check", "-C", file])
            #expect(ours.status == 1 && ours.stderr.hasPrefix("\(file):\(v.line):"), "\(v.name): \(ours.stderr)")
            let word: String = switch theirs {
            case .starts: "starts"
            case .syntaxError(let line): "syntax error, line \(line)"
            case .refuses: "refuses (no line)"
            }
            table.append("| \(v.name) | \(v.line) | \(word) | refused at line \(v.line) |")
        }
        // The comparison, for the report and docs.
        try (table.joined(separator: "\n") + "\n").write(toFile: NSTemporaryDirectory() + "/tdn-conntrackd-verdicts.md", atomically: true, encoding: .utf8)
    }
}
