import TandemCLI
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--metrics-listen` on the three daemons' command lines: a bad ADDR:PORT is refused
/// naming the flag, and so is the flag where no daemon starts (a client request, a
/// config check). The control: the same command line without the flag gets past it.
@Suite struct MetricsListenFlagTests {
    static let lab = SharedVectors.sharedDirectory + "/vectors/reference-output/sync-stop-polDROP-poll5/fw1-conntrackd.conf"

    @Test func conntrackdRefusesABadAddressAndTheFlagWithoutADaemon() {
        let bad = CapturedOutput()
        #expect(ConntrackdTool(output: bad).run(["-C", Self.lab, "--metrics-listen", "localhost:9633"]) == 1)
        #expect(bad.stderr == ["conntrackd: --metrics-listen: 'localhost' is not an IP address (host names are not supported)"])
        let missing = CapturedOutput()
        #expect(ConntrackdTool(output: missing).run(["-C", Self.lab, "--metrics-listen"]) == 1)
        #expect(missing.stderr.first?.contains("--metrics-listen needs ADDR:PORT") == true)
        let check = CapturedOutput()
        #expect(ConntrackdTool(output: check).run(["--check", "-C", Self.lab, "--metrics-listen=127.0.0.1:9633"]) == 1)
        #expect(check.stderr.first?.contains("not supported with --check or a client request") == true)
        // Control: the same check without the flag passes.
        let plain = CapturedOutput()
        #expect(ConntrackdTool(output: plain).run(["--check", "-C", Self.lab]) == 0)
    }

    @Test func runRefusesABadAddressBeforeReadingAnything() {
        let out = CapturedOutput()
        #expect(RunTool(output: out).run(["--metrics-listen", "[::1]9633", "--check"]) == 64)
        #expect(out.stderr == ["tandem run: --metrics-listen: '[::1]9633' is not ADDR:PORT (an IPv4 address and port, or [IPv6]:port)"])
        let port = CapturedOutput()
        #expect(RunTool(output: port).run(["--metrics-listen", "127.0.0.1:0", "--check"]) == 64)
        #expect(port.stderr == ["tandem run: --metrics-listen: '0' is not a port (1-65535)"])
    }

    @Test func keepalivedRefusesTheFlagWithAConfigTest() {
        let path = "/tmp/tdz-keepalived-\(getpid()).conf"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let text = Array("vrrp_instance V {\n  interface lo\n  virtual_router_id 9\n  priority 100\n  virtual_ipaddress {\n    10.233.9.9/32\n  }\n}\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        let out = CapturedOutput()
        #expect(KeepalivedTool(output: out).run(["-t", "-f", path, "--metrics-listen", "127.0.0.1:9633"]) == 2)
        #expect(out.stderr.last == "keepalived: --metrics-listen is for the daemon; it is not supported with -t")
        let bad = CapturedOutput()
        #expect(KeepalivedTool(output: bad).run(["-f", path, "--metrics-listen", "9633"]) == 2)
        #expect(bad.stderr.first?.hasPrefix("keepalived: --metrics-listen: ") == true)
        // Control: the config test alone passes.
        let plain = CapturedOutput()
        #expect(KeepalivedTool(output: plain).run(["-t", "-f", path]) == 0, "\(plain.stderr)")
    }
}
