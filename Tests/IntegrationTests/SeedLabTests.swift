import Foundation
import TestSupport
import Testing

/// The seed's failover test (../shared/lab/reference-lab.sh) with Tandem as conntrackd,
/// as keepalived, or as both: on both firewalls, and on fw1 only (mixed with Debian's
/// daemons); plus the control run without replication, in which the session must die.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrackd") && Shell.which("keepalived") && Shell.which("iptables-restore"),
                             "needs root, conntrackd, keepalived and iptables"))
struct SeedLabTests {
    static let labScript = SharedVectors.sharedDirectory + "/lab/reference-lab.sh"

    /// A directory holding a `NAME` (conntrackd or keepalived) that is Tandem (busybox
    /// link), or with `mixed` a wrapper choosing Tandem on fw1 and Debian's daemon elsewhere.
    static func labBinary(_ name: String, mixed: Bool) throws -> String {
        let dir = NSTemporaryDirectory() + "tdt-labbin-\(getpid())-\(name)-\(mixed ? "mixed" : "tandem")"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        if mixed {
            let script = """
            #!/bin/sh
            if [ "$(ip netns identify $$)" = al-fw1 ]; then exec \(Shell.tandem) \(name) "$@"; fi
            exec /usr/sbin/\(name) "$@"
            """
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        } else {
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: Shell.tandem)
        }
        return path
    }

    static func binary(mixed: Bool) throws -> String { try labBinary("conntrackd", mixed: mixed) }
    static func keepalivedBinary(mixed: Bool = false) throws -> String { try labBinary("keepalived", mixed: mixed) }

    /// Runs a lab command with its output in a file: the daemons it starts keep their
    /// stdout, and a pipe would never reach end-of-file.
    static func lab(_ args: String, binary: String, keepalived: String? = nil, log: String, timeout: Double) -> (status: Int32, output: String) {
        var env = ["env", "CONNTRACKD_BIN=\(binary)", "KEEP_RESULTS=/run/tdt-lab-results"]
        if let keepalived { env.append("KEEPALIVED_BIN=\(keepalived)") }
        let argv = env + ["bash", labScript]
            + args.split(separator: " ").map(String.init)
        guard let p = try? Shell.start(argv, stdout: log, stderr: log + ".err") else { return (-1, "cannot start the lab") }
        let status = p.wait(timeout: timeout)
        let output = Vectors.readText(log) + Vectors.readText(log + ".err")
        try? FileManager.default.removeItem(atPath: log + ".err")
        return (status, output)
    }

    /// With `keepBinaries`, the wrapper binaries stay for another attempt.
    static func failover(binary: String, keepalived: String? = nil, label: String, mode: String = "sync",
                         keepBinaries: Bool = false) -> String {
        let log = NSTemporaryDirectory() + "tdt-lab-\(getpid())-\(label).log"
        defer {
            _ = lab("down", binary: binary, keepalived: keepalived, log: log, timeout: 120)
            try? FileManager.default.removeItem(atPath: log)
            if !keepBinaries { removeBinaries(binary, keepalived) }
        }
        let up = lab("up", binary: binary, keepalived: keepalived, log: log, timeout: 240)
        guard up.status == 0 else { return "up failed: \(up.output.suffix(2000))" }
        return lab("failover-test --runs 1 --mode \(mode) --label \(label)", binary: binary, keepalived: keepalived, log: log, timeout: 300).output
    }

    static func removeBinaries(_ binary: String, _ keepalived: String?) {
        for b in [binary, keepalived].compactMap({ $0 }) where b.contains("tdt-labbin") {
            try? FileManager.default.removeItem(atPath: (b as NSString).deletingLastPathComponent)
        }
    }

    /// The seed's glue races: keepalived adds the VIPs before primary-backup.sh commits, and
    /// a server packet reaching fw2 in between is reset by fw2's own stack (measured with
    /// the real daemons too; `tandem run` closes it by committing first). A run lost to
    /// that race, recognisable by fw2's RST, is repeated up to three times in all; any
    /// other failure counts at once, but for the shared lab script's own 15-s wait for fw1's
    /// VIPs at set-up (no failover yet, so no verdict), which a loaded CI machine missed once.
    static func survives(binary: String, keepalived: String? = nil, label: String) -> (Bool, String) {
        var outputs: [String] = []
        defer { removeBinaries(binary, keepalived) }
        for attempt in 1...3 {
            let out = failover(binary: binary, keepalived: keepalived, label: "\(label)-\(attempt)", keepBinaries: true)
            outputs.append(out)
            if out.contains("survived=yes") { return (true, out) }
            let setUpTooSlow = out.hasPrefix("up failed") && out.contains("fw1 never became MASTER")
            if !out.contains("RST sent by fw2") && !setUpTooSlow { break }
        }
        return (false, outputs.joined(separator: "\n---\n"))
    }

    @Test func mixedKeepalivedPairKeepsTheSession() throws {
        let (ok, out) = Self.survives(binary: "/usr/sbin/conntrackd", keepalived: try Self.keepalivedBinary(mixed: true), label: "tandem-ka-mixed")
        #expect(ok, "\(out)")
    }

    @Test func tandemKeepalivedWithReferenceConntrackdKeepsTheSession() throws {
        let (ok, out) = Self.survives(binary: "/usr/sbin/conntrackd", keepalived: try Self.keepalivedBinary(), label: "tandem-keepalived")
        #expect(ok, "\(out)")
    }

    @Test func tandemForBothRolesKeepsTheSession() throws {
        let (ok, out) = Self.survives(binary: try Self.binary(mixed: false), keepalived: try Self.keepalivedBinary(), label: "tandem-split")
        #expect(ok, "\(out)")
    }

    @Test func tandemOnBothFirewallsKeepsTheSession() throws {
        let (ok, out) = Self.survives(binary: try Self.binary(mixed: false), label: "tandem-both")
        #expect(ok, "\(out)")
    }

    @Test func mixedPairKeepsTheSession() throws {
        let (ok, out) = Self.survives(binary: try Self.binary(mixed: true), label: "tandem-mixed")
        #expect(ok, "\(out)")
    }

    /// The control: replication off (conntrackd stopped on both firewalls before the
    /// failover), the same failover breaks the session.
    @Test func withoutReplicationTheSessionBreaks() throws {
        let out = Self.failover(binary: try Self.binary(mixed: false), label: "tandem-nosync", mode: "nosync")
        #expect(out.contains("survived=no"), "\(out)")
    }
}
