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
}
