import TandemCLI
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct ConntrackdToolTests {
    @Test func checkReportsFileLineColumn() throws {
        let path = "/tmp/tandem-check-\(getpid()).conf"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = Array("General {\n  HashSize 10\n  Nice 0\n}\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        let out = CapturedOutput()
        #expect(ConntrackdTool(output: out).run(["--check", "-C", path]) == 1)
        #expect(out.stderr == ["\(path):3:8: error: syntax error: Nice takes a signed number such as -20 (at `0')"])
    }

    @Test func checkAcceptsTheLabConfig() {
        let path = SharedVectors.sharedDirectory + "/vectors/reference-output/sync-stop-polDROP-poll5/fw1-conntrackd.conf"
        let out = CapturedOutput()
        #expect(ConntrackdTool(output: out).run(["--check", "-C", path]) == 0)
        #expect(out.stdout == ["\(path): configuration OK (FTFW mode)"])
    }

    /// `-h` is conntrackd 1.4.7's usage, line for line (when the real one is here to compare).
    @Test(.enabled(if: access("/usr/sbin/conntrackd", X_OK) == 0))
    func helpIsConntrackds() {
        let out = CapturedOutput()
        #expect(ConntrackdTool(output: out).run(["-h"]) == 0)
        let real = Shell.run(["conntrackd", "-h"]).stdout
        func trimmed(_ t: String) -> Substring { t.reversed().drop { $0 == "\n" }.reversed().map(String.init).joined()[...] }
        #expect(trimmed(out.stdout.joined(separator: "\n")) == trimmed(real))
    }

    /// Every flag in the tool's list is taken (its error, if any, is about the missing
    /// file, never "Unknown option"); the control, a flag not in it, is refused.
    @Test func everyListedFlagIsTaken() {
        for flag in ConntrackdTool.flags where !["-d", "-h", "--help", "-v", "--version"].contains(flag) {
            let out = CapturedOutput()
            let argv = flag == "-x" ? ["-i", "-x", "-C", "/nonexistent/tdn.conf"] : [flag, "-C", "/nonexistent/tdn.conf"]
            _ = ConntrackdTool(output: out).run(flag == "-C" || flag == "--config" ? [flag, "/nonexistent/tdn.conf"] : argv)
            #expect(!out.stderr.joined().contains("Unknown option"), "\(flag): \(out.stderr)")
            #expect(out.stderr.joined().contains("/nonexistent/tdn.conf"), "\(flag): \(out.stderr)")
        }
        let out = CapturedOutput()
        _ = ConntrackdTool(output: out).run(["-Z", "-C", "/nonexistent/tdn.conf"])
        #expect(out.stderr.joined().contains("Unknown option: -Z"))
    }

    @Test func compatibilityTableListsEveryFlag() {
        let rows = CompatibilityTable.rows(section: "tandem conntrackd: command-line flags")
        let documented = rows.flatMap(\.names)
        #expect(Set(documented) == Set(ConntrackdTool.flags), "\(documented)")
        #expect(documented.count == ConntrackdTool.flags.count)
    }

    /// --check refuses what Tandem does not do, naming the line and saying so.
    @Test func checkRefusesStatisticsMode() throws {
        let path = "/tmp/tdn-check-stats-\(getpid()).conf"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = Array("General {\n  HashSize 10\n}\nStats {\n  LogFile on\n}\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        let out = CapturedOutput()
        #expect(ConntrackdTool(output: out).run(["--check", "-C", path]) == 1)
        #expect(out.stderr.first?.hasPrefix("\(path):4:1: error: the `Stats' section (statistics mode) is not supported") == true, "\(out.stderr)")
    }
}

