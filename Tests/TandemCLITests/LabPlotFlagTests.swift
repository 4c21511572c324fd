import Foundation
import TestSupport
import Testing

/// `tandem lab failover|demo --plot FILE`: a path that cannot take the picture is refused,
/// naming the flag, before the lab does anything; a good path lets the command go on.
@Suite struct LabPlotFlagTests {
    /// A lab prefix that is never up: the command can only get as far as "no lab".
    static let prefix = "tdt-plot\(getpid() % 100_000)-"

    static func lab(_ args: [String]) -> Shell.Output {
        Shell.run([Shell.tandem, "lab"] + args + ["--prefix", prefix], timeout: 30)
    }

    @Test(arguments: ["failover", "demo"])
    func aMissingDirectoryIsRefusedBeforeTheLabStarts(_ subcommand: String) {
        let path = "/nonexistent-tdt-\(getpid())/run.svg"
        let r = Self.lab([subcommand, "--plot", path])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("tandem lab: --plot \(path): cannot write the picture there: No such file or directory"), "\(r)")
        // Nothing of the lab ran: no namespaces, no state directory.
        #expect(!r.stderr.contains("no lab is up") && !r.stderr.contains("needs root"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: "/run/tandem-lab/" + Self.prefix))
    }

    @Test func aDirectoryIsRefused() {
        let r = Self.lab(["failover", "--plot", NSTemporaryDirectory()])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("--plot \(NSTemporaryDirectory()): cannot write the picture there: Is a directory"), "\(r)")
    }

    /// The control: a writable path passes the check (the command then stops at the missing
    /// lab, or at not being root) and the check leaves no file behind.
    @Test func aWritablePathPassesAndLeavesNothing() throws {
        let dir = NSTemporaryDirectory() + "tdt-plotflag-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/run.svg"
        let r = Self.lab(["failover", "--plot", path])
        #expect(r.status == 1, "\(r)")
        #expect(!r.stderr.contains("--plot"), "\(r)")
        #expect(r.stderr.contains("no lab is up for prefix") || r.stderr.contains("needs root"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func plotDoesNotApplyToUp() {
        let r = Self.lab(["up", "--plot", "x.svg"])
        #expect(r.status == 2, "\(r)")
        #expect(r.stderr.contains("--plot does not apply to `tandem lab up`"), "\(r)")
    }
}
