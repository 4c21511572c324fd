import Foundation
import TestSupport
import Testing

/// `-o xml,timestamp` and `-o xml,ktimestamp` against conntrack 1.4.7 byte for byte, with
/// the kernel's flow timestamps on in the namespace: `timestamp` is the moment of printing
/// (`<when>`, events only), `ktimestamp` the kernel's start time. Listing and events both;
/// the control is that the two options print differently.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct ConntrackXMLTimeTests {
    static func events(_ ns: TestNamespace, _ dir: String, _ output: String, tag: String, host: Int) throws -> (String, String) {
        let theirs = try ns.start(["timeout", "3", "conntrack", "-E", "-o", output], stdout: "\(dir)/\(tag)-c.out", stderr: "\(dir)/\(tag)-c.err")
        let ours = try ns.start(["timeout", "3", Shell.tandem, "conntrack", "-E", "-o", output], stdout: "\(dir)/\(tag)-t.out", stderr: "\(dir)/\(tag)-t.err")
        usleep(800_000)
        ns.run(["conntrack", "-I", "-p", "udp", "-s", "10.4.3.\(host)", "-d", "10.4.2.2", "--sport", "1", "--dport", "2", "-t", "100"])
        theirs.wait(timeout: 10)
        ours.wait(timeout: 10)
        let read = { (p: String) in (try? String(contentsOfFile: p, encoding: .utf8)) ?? "" }
        return (read("\(dir)/\(tag)-t.out") + read("\(dir)/\(tag)-t.err"), read("\(dir)/\(tag)-c.out") + read("\(dir)/\(tag)-c.err"))
    }

    @Test func timestampsInXMLMatchConntrack() throws {
        let ns = try TestNamespace("xtime", prefix: "tdxw")
        defer { ns.remove() }
        let dir = NSTemporaryDirectory() + "/\(ns.name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        ns.run(["sysctl", "-qw", "net.netfilter.nf_conntrack_timestamp=1"])
        ns.run(["conntrack", "-I", "-p", "udp", "-s", "10.4.1.1", "-d", "10.4.2.2", "--sport", "1", "--dport", "2", "-t", "100"])
        var printed: [String: String] = [:]
        for (n, output) in ["xml,timestamp", "xml,ktimestamp"].enumerated() {
            var same = false, last = ""
            for _ in 0..<4 where !same {
                let ours = ns.tandem(["conntrack", "-L", "-o", output]), theirs = ns.run(["conntrack", "-L", "-o", output])
                same = ours.stdout == theirs.stdout && ours.stderr == theirs.stderr && ours.status == theirs.status
                last = "--- tandem\n\(ours.stdout)\(ours.stderr)--- conntrack\n\(theirs.stdout)\(theirs.stderr)"
                printed["L " + output] = theirs.stdout
            }
            #expect(same, "-L -o \(output)\n\(last)")
            same = false
            for attempt in 0..<3 where !same {
                let (ours, theirs) = try Self.events(ns, dir, output, tag: output.replacingOccurrences(of: ",", with: "-") + "\(attempt)",
                                                   host: 10 * n + attempt + 1)
                // " progname=NAME" is read from /proc while the inserting process lives: under
                // load it may already be gone for one tool and not the other.
                let unnamed = { (text: String) in text.replacingOccurrences(of: #" progname=\S+"#, with: "", options: .regularExpression) }
                same = ours == theirs || unnamed(ours) == unnamed(theirs)
                last = "--- tandem\n\(ours)--- conntrack\n\(theirs)"
                printed["E " + output] = theirs
            }
            #expect(same, "-E -o \(output)\n\(last)")
        }
        #expect(printed["E xml,timestamp"]?.contains("<when><hour>") == true, "\(printed)")
        #expect(printed["L xml,ktimestamp"]?.contains("<timestamp><start>") == true, "\(printed)")
        #expect(printed["E xml,timestamp"] != printed["E xml,ktimestamp"])
    }
}
