import Foundation
import TestSupport
import Testing

/// The broken variants of the seed's keepalived.conf (TestSupport's corpus) given to the
/// real keepalived 2.2.7's `-t` and to `tandem keepalived -t`, in a namespace holding the
/// seed's interfaces and addresses: each variant's reference verdict is checked, and
/// Tandem always names the fault's line. The unchanged seed is the control: both say the
/// same of it (the two nopreempt warnings, exit 5) and name no other line.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedConfigReferenceTests {
    static func keepalived(_ ns: TestNamespace, _ file: String) -> (status: Int32, lines: [String]) {
        let r = ns.run(["timeout", "10", "keepalived", "-t", "-l", "-n", "-f", file], timeout: 20)
        let lines = (r.stdout + r.stderr).split(separator: "\n").map(String.init)
        return (r.status, lines)
    }

    @Test func verdictsBesideKeepalived() throws {
        let ns = try TestNamespace("ref", prefix: "tdkc")
        defer { ns.remove() }
        for (dev, address) in [("ens4", "10.0.0.1/24"), ("ens2", "192.168.255.11/24")] {
            ns.run(["ip", "link", "add", dev, "type", "veth", "peer", "name", dev + "p"])
            ns.run(["ip", "addr", "add", address, "dev", dev])
            ns.run(["ip", "link", "set", dev, "up"])
        }
        let dir = NSTemporaryDirectory() + "/\(ns.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let seedFile = "\(dir)/seed.conf"
        try KeepalivedConfigCorpus.seed.write(toFile: seedFile, atomically: true, encoding: .utf8)
        let seed = Self.keepalived(ns, seedFile)
        #expect(seed.status == 5 && seed.lines.count == 2 && seed.lines.allSatisfy { $0.contains("nopreempt will not work") },
                "control: keepalived on the seed: \(seed)")
        let ours = ns.tandem(["keepalived", "-t", "-f", seedFile])
        #expect(ours.status == 5, "control: tandem on the seed: \(ours.status) \(ours.stderr)")
        let seedLines = ours.stderr.split(separator: "\n").filter { $0.hasPrefix(seedFile + ":") }
        #expect(seedLines.count == 2 && seedLines.allSatisfy { $0.contains("nopreempt will not work") }, "\(ours.stderr)")

        var table = ["| variant | fault line | keepalived 2.2.7 -t | tandem |", "|---|---|---|---|"]
        for (i, v) in KeepalivedConfigCorpus.variants.enumerated() {
            let file = "\(dir)/v\(i).conf"
            try v.text.write(toFile: file, atomically: true, encoding: .utf8)
            let theirs = Self.keepalived(ns, file)
            let extra = theirs.lines.filter { !seed.lines.contains($0) }
            let verdict: KeepalivedConfigCorpus.Reference =
                extra.contains { $0.contains(": Line \(v.line))") } ? .namesLine : extra.isEmpty && theirs.status == seed.status ? .silent : .reportsElsewhere
            #expect(verdict == v.reference, "\(v.name): keepalived \(theirs.status) \(extra)")
            let mine = ns.tandem(["keepalived", "-t", "-f", file])
            #expect(mine.status != 0 && mine.stderr.contains("\(file):\(v.line):"), "\(v.name): tandem \(mine.status) \(mine.stderr)")
            let word = switch verdict {
            case .namesLine: "reports it at line \(v.line)"
            case .reportsElsewhere: "reports it without the line"
            case .silent: "says nothing more than for the seed"
            }
            table.append("| \(v.name) | \(v.line) | \(word) | exit \(mine.status), line \(v.line) named |")
        }
        // Only the host can tell: an unicast_src_ip that is not on the interface. keepalived's
        // -t says nothing more than for the seed; Tandem names the line.
        let foreign = KeepalivedConfigCorpus.seed.replacingOccurrences(of: "unicast_src_ip 10.0.0.1", with: "unicast_src_ip 10.0.0.9")
        let foreignFile = "\(dir)/foreign-source.conf"
        try foreign.write(toFile: foreignFile, atomically: true, encoding: .utf8)
        let line = foreign.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("unicast_src_ip 10.0.0.9") }! + 1
        let theirs = Self.keepalived(ns, foreignFile)
        #expect(theirs.status == seed.status && theirs.lines == seed.lines, "keepalived on a foreign unicast_src_ip: \(theirs)")
        let mine = ns.tandem(["keepalived", "-t", "-f", foreignFile])
        #expect(mine.status == 5 && mine.stderr.contains("\(foreignFile):\(line):") && mine.stderr.contains("is not an address of ens4"), "\(mine.stderr)")
        table.append("| unicast_src_ip not on the interface (host check) | \(line) | says nothing more than for the seed | exit \(mine.status), line \(line) named |")
        try (table.joined(separator: "\n") + "\n").write(toFile: NSTemporaryDirectory() + "/tdkc-keepalived-verdicts.md", atomically: true, encoding: .utf8)
    }
}
