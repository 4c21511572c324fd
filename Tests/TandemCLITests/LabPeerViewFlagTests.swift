import Foundation
import TestSupport
import Testing

/// `tandem lab up --peer-view PORT` is a `tandem run` option: refused for the other stacks
/// and out of range before anything of the lab runs, and only `up` takes it.
@Suite struct LabPeerViewFlagTests {
    /// A lab prefix that is never up.
    static let prefix = "tdt-pv\(getpid() % 100_000)-"

    static func lab(_ args: [String]) -> Shell.Output {
        Shell.run([Shell.tandem, "lab"] + args + ["--prefix", prefix], timeout: 30)
    }

    @Test(arguments: ["reference", "tandem-split", "mixed"]) func anotherStackIsRefused(_ stack: String) {
        let r = Self.lab(["up", "--stack", stack, "--peer-view", "3790"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("--peer-view is a `tandem run` option: it needs --stack tandem-run"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: "/run/tandem-lab/" + Self.prefix))
    }

    @Test(arguments: ["0", "65536", "x"]) func aPortOutOfRangeIsRefused(_ port: String) {
        let r = Self.lab(["up", "--peer-view", port])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("--peer-view \(port): expected a number from 1.0 to 65535.0"), "\(r)")
    }

    /// The control for both: the same flag where it applies gets past the parser (to the
    /// missing lab), and where it does not is refused by name.
    @Test func onlyUpTakesIt() {
        let failover = Self.lab(["failover", "--peer-view", "3790"])
        #expect(failover.status == 2 && failover.stderr.contains("--peer-view does not apply to `tandem lab failover`"), "\(failover)")
        let status = Self.lab(["status"])
        #expect(status.status != 2, "\(status)")
    }
}
