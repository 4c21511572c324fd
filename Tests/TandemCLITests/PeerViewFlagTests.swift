import TandemCLI
import Testing

/// `tandem run --peer-view PORT`: a port outside 1-65535 is refused before anything is
/// read; the control, a valid port, goes on to the configuration check.
@Suite struct PeerViewFlagTests {
    @Test(arguments: ["0", "65536", "-1"]) func aPortOutOfRangeIsRefused(_ port: String) {
        let out = CapturedOutput()
        #expect(RunTool(output: out).run(["--peer-view", port, "--check"]) == 64)
        #expect(out.stderr.last?.contains("--peer-view") == true, "\(out.stderr)")
    }

    @Test func aValidPortPassesTheFlagCheck() {
        let out = CapturedOutput()
        // The files do not exist: the refusal is theirs, not the flag's.
        _ = RunTool(output: out).run(["--peer-view", "3790", "--check", "--keepalived-config", "/nonexistent/k.conf",
                                      "--conntrackd-config", "/nonexistent/c.conf"])
        #expect(!out.stderr.joined().contains("--peer-view"), "\(out.stderr)")
    }
}
