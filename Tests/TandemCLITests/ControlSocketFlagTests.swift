import Foundation
@testable import TandemCLI
import Testing

/// `tandem keepalived --control-socket PATH`: Tandem's own flag, taken out before
/// keepalived's are read; a missing path is refused, `-t` refuses it, and without it the
/// socket sits beside the main pid file.
@Suite struct ControlSocketFlagTests {
    @Test func theFlagIsReadInBothSpellings() {
        #expect(ControlSocketOption.read(["--control-socket", "/run/a.ctl"], at: 0) == .read("/run/a.ctl", taking: 2))
        #expect(ControlSocketOption.read(["-n", "--control-socket=/run/b.ctl"], at: 1) == .read("/run/b.ctl", taking: 1))
        #expect(ControlSocketOption.read(["-n"], at: 0) == .otherArgument)
        #expect(ControlSocketOption.read(["--control-socket"], at: 0) == .refused("option --control-socket needs a PATH"))
        // The next flag is not taken for a path.
        #expect(ControlSocketOption.read(["--control-socket", "-n"], at: 0) == .refused("option --control-socket needs a PATH, not `-n'"))
    }

    @Test func theDefaultFollowsTheMainPidFile() {
        #expect(ControlSocketOption.defaultPath(mainPidFile: nil) == "/run/keepalived.ctl")
        #expect(ControlSocketOption.defaultPath(mainPidFile: "/run/al-fw1/keepalived.pid") == "/run/al-fw1/keepalived.ctl")
        #expect(ControlSocketOption.defaultPath(mainPidFile: "/run/fw2/main") == "/run/fw2/main.ctl")
        // -r (the VRRP child's pid file) does not move it; -p does.
        guard case .proceed(let line) = KeepalivedCommandLine.parse(["-r", "/x/v.pid", "-p", "/y/k.pid"], programName: "keepalived",
                                                                   output: CapturedOutput()) else { Issue.record("refused"); return }
        #expect(line.mainPidFile == "/y/k.pid")
    }

    @Test func keepalivedRefusesAMissingPathAndTheFlagWithAConfigTest() {
        let path = "/tmp/tob-keepalived-\(getpid()).conf"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = Array("vrrp_instance V {\n  interface lo\n  virtual_router_id 9\n  priority 100\n  virtual_ipaddress {\n    10.233.9.9/32\n  }\n}\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        let out = CapturedOutput()
        #expect(KeepalivedTool(output: out).run(["-t", "-f", path, "--control-socket", "/tmp/x.ctl"]) == 2)
        #expect(out.stderr.last == "keepalived: --control-socket is for the daemon; it is not supported with -t")
        let missing = CapturedOutput()
        #expect(KeepalivedTool(output: missing).run(["-f", path, "--control-socket"]) == 2)
        #expect(missing.stderr == ["keepalived: option --control-socket needs a PATH"])
        // Control: the config test alone passes.
        let plain = CapturedOutput()
        #expect(KeepalivedTool(output: plain).run(["-t", "-f", path]) == 0, "\(plain.stderr)")
    }
}
