import Foundation
import TestSupport
import Testing

/// Connection labels (`-l`, `--label-add`, `--label-del`, `-o labels`) and `-c` against
/// conntrack 1.4.7 byte for byte (output, messages, exit status). The label names come
/// from /etc/xtables/connlabel.conf, which this host lacks: each command runs in a mount
/// namespace whose /etc is an overlay holding one, so the host's /etc is never touched.
/// The namespace's nftables rule is what makes the kernel keep labels at all. Commands
/// that change the table run from the same starting table for each tool, and the table
/// they leave is compared too.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack") && Shell.which("nft") && Shell.which("unshare"),
                             "needs root, conntrack(8), nft and unshare"))
struct ConntrackLabelTests {
    static let labels = "0 zero\n3 three\n5 five\n# 7 seven\n"
    static let flowA = ["-p", "tcp", "-s", "10.3.1.1", "-d", "10.3.2.2", "--sport", "1000", "--dport", "22"]
    static let flowB = ["-p", "udp", "-s", "10.3.1.2", "-d", "10.3.2.2", "--sport", "1001", "--dport", "53"]

    final class Host {
        let ns: TestNamespace
        let dir: String
        var mounts = 0
        init() throws {
            ns = try TestNamespace("lbl", prefix: "tdlb")
            dir = NSTemporaryDirectory() + "/\(ns.name)"
            try FileManager.default.createDirectory(atPath: dir + "/upper/xtables", withIntermediateDirectories: true)
            try ConntrackLabelTests.labels.write(toFile: dir + "/upper/xtables/connlabel.conf", atomically: true, encoding: .utf8)
            let rules = "table inet tdlb {\n chain out {\n  type filter hook output priority 0;\n  meta mark 0x7fff ct label set 127\n }\n}\n"
            try rules.write(toFile: dir + "/rules.nft", atomically: true, encoding: .utf8)
            ns.run(["nft", "-f", dir + "/rules.nft"])
        }
        func remove() {
            ns.remove()
            try? FileManager.default.removeItem(atPath: dir)
        }

        /// `argv` in the namespace, with connlabel.conf present when `labelled`.
        func run(_ argv: [String], labelled: Bool = true) -> Shell.Output {
            guard labelled else { return ns.run(argv) }
            mounts += 1
            let work = dir + "/work\(mounts)"
            try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let script = "mount -t overlay tdlb -o lowerdir=/etc,upperdir=\(dir)/upper,workdir=\(work) /etc && exec ip netns exec \(ns.name) \"$@\""
            return Shell.run(["unshare", "-m", "sh", "-c", script, "sh"] + argv)
        }

        /// Both flows, created by conntrack itself, A with two labels.
        func reset() {
            run(["conntrack", "-F"])
            run(["conntrack", "-I"] + ConntrackLabelTests.flowA + ["--state", "ESTABLISHED", "-t", "500", "--label-add", "zero,five"])
            run(["conntrack", "-I"] + ConntrackLabelTests.flowB + ["-t", "500"])
        }
    }

    static let readOnly: [[String]] = [
        ["-L"],
        ["-L", "-o", "labels"],
        ["-L", "-o", "xml,labels"],
        ["-L", "-o", "extended,labels"],
        ["-L", "-l", "five"],
        ["-L", "-l", "zero,five"],
        ["-L", "-l", "three"],
        ["-L", "-l", "nine"],
        ["-L", "-l", "3"],
        ["-L", "-l", "zero, five"],
        ["-L", "-c", "5"],
        ["-G"] + flowA + ["-o", "labels"],
        ["-G"] + flowA + ["-l", "five"],
        ["-L", "--label-add", "five"],
        ["-L", "--label-del", "five"],
        ["-C", "-c", "1"],
        ["-D", "-c", "1"],
        ["-I"] + flowB + ["-t", "10", "-c", "5"],
        ["-I"] + flowB + ["-t", "10", "--label-del", "five"],
        ["-L", "expect", "-l", "five"],
    ]

    static let changing: [[String]] = [
        ["-I", "-p", "tcp", "-s", "10.3.1.9", "-d", "10.3.2.2", "--sport", "1", "--dport", "2", "--state", "ESTABLISHED", "-t", "500", "--label-add", "three,five"],
        ["-A", "-p", "tcp", "-s", "10.3.1.9", "-d", "10.3.2.2", "--sport", "1", "--dport", "2", "--state", "ESTABLISHED", "-t", "500", "--label-add", "zero"],
        ["-U", "-s", "10.3.1.1", "--label-add", "three"],
        ["-U", "-s", "10.3.1.1", "--label-add", "zero"],
        ["-U", "-s", "10.3.1.1", "--label-del", "five"],
        ["-U", "-s", "10.3.1.1", "--label-del"],
        ["-U", "-p", "tcp", "--label-add", "three", "--label-del", "zero"],
        ["-D", "-l", "five"],
        ["-D", "-p", "udp"],
    ]

    static func text(_ o: Shell.Output) -> String { "(\(o.status))\n\(o.stdout)\(o.stderr)" }

    /// Timeouts tick once a second: equal output must show within a few tries.
    static func compare(_ host: Host, _ argv: [String], changes: Bool) -> (Bool, String) {
        var last = ""
        for _ in 0..<4 {
            if changes { host.reset() }
            let theirs = host.run(["conntrack"] + argv)
            let theirTable = changes ? host.run(["conntrack", "-L", "-o", "labels"]) : theirs
            if changes { host.reset() }
            let ours = host.run([Shell.tandem, "conntrack"] + argv)
            let ourTable = changes ? host.run(["conntrack", "-L", "-o", "labels"]) : ours
            last = "--- tandem \(text(ours))--- conntrack \(text(theirs))"
                + (changes ? "--- table after tandem \(text(ourTable))--- table after conntrack \(text(theirTable))" : "")
            if text(ours) == text(theirs) && text(ourTable) == text(theirTable) { return (true, last) }
        }
        return (false, last)
    }

    @Test func labelOptionsMatchConntrack() throws {
        let host = try Host()
        defer { host.remove() }
        host.reset()
        // The control: labels are there to be shown, so equal output is not equal silence.
        let shown = host.run(["conntrack", "-L", "-o", "labels"])
        #expect(shown.stdout.contains("labels=zero,five"), "\(Self.text(shown))")
        for argv in Self.readOnly {
            let (same, detail) = Self.compare(host, argv, changes: false)
            #expect(same, "\(argv.joined(separator: " "))\n\(detail)")
        }
        for argv in Self.changing {
            let (same, detail) = Self.compare(host, argv, changes: true)
            #expect(same, "\(argv.joined(separator: " "))\n\(detail)")
        }
    }

    @Test func withoutConnlabelConf() throws {
        try #require(!FileManager.default.fileExists(atPath: "/etc/xtables/connlabel.conf"), "the host has a connlabel.conf")
        let host = try Host()
        defer { host.remove() }
        host.reset()
        for argv in [["-L", "-o", "labels"], ["-L", "-l", "five"], ["-U", "-s", "10.3.1.1", "--label-del"]] {
            let theirs = host.run(["conntrack"] + argv, labelled: false)
            let ours = host.run([Shell.tandem, "conntrack"] + argv, labelled: false)
            #expect(Self.text(ours) == Self.text(theirs), "\(argv)\n--- tandem \(Self.text(ours))--- conntrack \(Self.text(theirs))")
            #expect(theirs.stderr.contains("nfct_labelmap_new: No such file or directory"), "\(Self.text(theirs))")
        }
    }
}
