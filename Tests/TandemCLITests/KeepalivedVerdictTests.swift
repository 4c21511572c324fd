import Foundation
import TandemCLI
import TestSupport
import Testing

/// `tandem keepalived -t` gives keepalived 2.2.7's exit code on the seed's files, the
/// reference lab's and every keepalived.conf sample of Debian's package, except where
/// docs/compatibility.md lists the file as a deliberate difference.
@Suite(.enabled(if: Shell.which("keepalived"), "needs keepalived")) struct KeepalivedVerdictTests {
    static let samples = "/usr/share/doc/keepalived/samples"

    /// Sample file → Tandem's exit code and why it differs from keepalived's.
    static let deliberate: [String: (Int32, String)] = [
        "keepalived.conf.fwmark": (0, "keepalived's 5 is a warning about its virtual_server (LVS), which Tandem skips"),
    ]

    /// The seed's keepalived.conf for one firewall, cut from seed-howto.txt.
    static func seedConfig(_ marker: String, until end: String) -> String {
        let text = (try? String(contentsOfFile: SharedVectors.sharedDirectory + "/reference/seed-howto.txt", encoding: .utf8)) ?? ""
        guard let a = text.range(of: marker), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return "" }
        return String(text[a.upperBound..<b.lowerBound])
    }

    static var files: [String] {
        let fm = FileManager.default
        var out = ((try? fm.contentsOfDirectory(atPath: samples)) ?? []).filter { $0.hasPrefix("keepalived.conf") }.sorted().map { samples + "/" + $0 }
        let lab = SharedVectors.sharedDirectory + "/vectors/reference-output"
        for run in ((try? fm.contentsOfDirectory(atPath: lab)) ?? []).sorted() {
            out += ["fw1-keepalived.conf", "fw2-keepalived.conf"].map { "\(lab)/\(run)/\($0)" }.filter { fm.fileExists(atPath: $0) }
        }
        out.append("/usr/share/doc/conntrackd/examples/sync/keepalived.conf")
        return out.filter { fm.fileExists(atPath: $0) }
    }

    @Test func theSeedsFilesGetKeepalivedsVerdict() throws {
        let dir = NSTemporaryDirectory() + "tdu-seed-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fw1 = Self.seedConfig("Primary fw-1 keepalived configuration file.", until: "Standby fw-2 Keepalived configuration file.")
        let fw2 = Self.seedConfig("Standby fw-2 Keepalived configuration file.", until: "Ofcourse you need")
        for (name, text) in [("fw1", fw1), ("fw2", fw2)] {
            #expect(text.contains("vrrp_sync_group G1") && text.contains("vrrp_instance EXT"), "\(name): the seed's file was not found")
            let path = "\(dir)/\(name)-keepalived.conf"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let theirs = Shell.run(["keepalived", "-t", "-f", path])
            let out = CapturedOutput()
            let ours = KeepalivedTool(output: out).run(["-t", "-f", path])
            #expect(ours == theirs.status, "\(name): keepalived \(theirs.status), tandem \(ours): \(out.stderr)")
            // The notify script (absent here) is disabled, so there is no script-security verdict.
            #expect(ours != 6)
        }
    }

    /// The script-security verdict itself, and its control: a notify script that exists
    /// makes both exit 6 without enable_script_security, and neither with it. keepalived
    /// looks at scripts only when every interface exists, so both run in a namespace
    /// holding the instance's link.
    @Test(.enabled(if: Shell.isRoot, "needs root"), arguments: [false, true])
    func scriptSecurityVerdictMatches(secured: Bool) throws {
        let ns = try TestNamespace("sec\(secured ? 1 : 0)", prefix: "tdu")
        defer { ns.remove() }
        #expect(ns.run(["ip", "link", "add", "tdu0", "type", "veth", "peer", "name", "tdu1"]).status == 0)
        ns.run(["ip", "link", "set", "tdu0", "up"])
        let dir = NSTemporaryDirectory() + "tdu-sec-\(getpid())-\(secured)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = (secured ? "global_defs {\n enable_script_security\n}\n" : "")
            + "vrrp_instance A {\n interface tdu0\n virtual_router_id 7\n virtual_ipaddress {\n  10.234.9.9/24\n }\n notify_master /bin/true\n}\n"
        try text.write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let theirs = ns.run(["keepalived", "-t", "-f", dir + "/k.conf"])
        let ours = ns.tandem(["keepalived", "-t", "-f", dir + "/k.conf"])
        #expect(ours.status == theirs.status, "keepalived \(theirs.status) \(theirs.stderr) | tandem \(ours.status) \(ours.stderr)")
        #expect((ours.status == 6) == !secured)
    }

    /// Script users and script security, `-t` beside keepalived: (global_defs lines, a
    /// vrrp_script's extra line, the notify line, the exit code both must give). The
    /// script lives in a directory anyone may write, so it is unsafe only when it runs
    /// with root's rights.
    static let scriptUserCases: [(String, String, String, Int32)] = [
        // Safe as nobody: nothing to disable.
        ("enable_script_security\n script_user nobody", "", "", 0),
        // The control: the same script as root is insecure and disabled (a config error).
        ("enable_script_security\n script_user nobody", "user root", "", 5),
        // No script_user and no keepalived_script account: the default user cannot be set.
        ("enable_script_security", "user nobody", "notify_master /bin/true", 5),
        ("script_user tdu-no-such-user", "", "", 5),
        ("enable_script_security", "user tdu-no-such-user", "", 5),
        // A notify user that does not exist: a log line, the command left out.
        ("enable_script_security\n script_user nobody", "", "notify_master /bin/true tdu-no-such-user", 0),
        // Without script security any script found is the violation, whatever its user.
        ("", "user nobody nogroup", "notify_master /bin/true nobody", 6),
    ]

    @Test(.enabled(if: Shell.isRoot && getpwnam("keepalived_script") == nil && getpwnam("nobody") != nil, "needs root and nobody, no keepalived_script"),
          arguments: scriptUserCases.indices)
    func scriptUserVerdictMatches(index: Int) throws {
        let (global, user, notify, expected) = Self.scriptUserCases[index]
        let ns = try TestNamespace("su\(index)", prefix: "tk2")
        defer { ns.remove() }
        #expect(ns.run(["ip", "link", "add", "tdu0", "type", "veth", "peer", "name", "tdu1"]).status == 0)
        ns.run(["ip", "link", "set", "tdu0", "up"])
        let dir = NSTemporaryDirectory() + "tk2-su-\(getpid())-\(index)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o777)
        try "#!/bin/sh\nexit 0\n".write(toFile: dir + "/chk.sh", atomically: true, encoding: .utf8)
        chmod(dir + "/chk.sh", 0o755)
        let text = "global_defs {\n \(global)\n}\nvrrp_script chk {\n script \(dir)/chk.sh\n \(user)\n}\n"
            + "vrrp_instance A {\n interface tdu0\n virtual_router_id 7\n virtual_ipaddress {\n  10.234.9.9/24\n }\n"
            + " track_script {\n  chk\n }\n \(notify)\n}\n"
        try text.write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let theirs = ns.run(["keepalived", "-t", "-f", dir + "/k.conf"])
        let ours = ns.tandem(["keepalived", "-t", "-f", dir + "/k.conf"])
        #expect(ours.status == theirs.status, "\(text)\nkeepalived \(theirs.status) \(theirs.stderr) | tandem \(ours.status) \(ours.stderr)")
        #expect(theirs.status == expected, "\(text)\nkeepalived \(theirs.stderr)")
    }

    /// Strict mode, `-t` beside keepalived: (global_defs lines, instance lines, keepalived's
    /// exit code, Tandem's). Strict without accept drops traffic to the addresses through
    /// nftables under both (KeepalivedNoAcceptTests in IntegrationTests).
    static let strictCases: [(String, String, Int32, Int32)] = [
        ("vrrp_strict", "version 3\n accept", 0, 0),
        // The control of the checks below: the same lines without strict mode are fine.
        ("", "version 3\n accept\n state MASTER\n priority 100", 0, 0),
        ("vrrp_strict", "version 3\n accept\n state MASTER\n priority 100", 5, 5),
        ("", "strict_mode on\n version 3\n accept\n preempt_delay 5", 5, 5),
        // keepalived's -t does not know the interface does multicast, so only its start
        // drops the instance ("Unicast peers are not supported in strict mode"); Tandem
        // says so at -t already.
        ("vrrp_strict", "version 3\n accept\n unicast_peer {\n  10.234.9.2\n }", 0, 5),
        ("", "strict_mode sideways\n version 3", 5, 5),
        ("vrrp_strict", "strict_mode off\n version 2", 0, 0),
        ("vrrp_strict", "version 3", 0, 0),
        ("vrrp_strict", "version 2\n accept\n authentication {\n  auth_type PASS\n  auth_pass x\n }", 5, 5),
        // Not strict mode: preempt_delay is cleared with a warning for an initial MASTER
        // (keepalived 2.2.7's -t exits 5); the control, an initial BACKUP, keeps it.
        ("", "version 3\n state MASTER\n priority 100\n preempt_delay 5", 5, 5),
        ("", "version 3\n state BACKUP\n priority 100\n preempt_delay 5", 0, 0),
    ]

    @Test(.enabled(if: Shell.isRoot, "needs root"), arguments: strictCases.indices)
    func strictModeVerdictMatches(index: Int) throws {
        let (global, lines, theirsExpected, oursExpected) = Self.strictCases[index]
        let ns = try TestNamespace("st\(index)", prefix: "tk2")
        defer { ns.remove() }
        #expect(ns.run(["ip", "link", "add", "tdu0", "type", "veth", "peer", "name", "tdu1"]).status == 0)
        ns.run(["ip", "link", "set", "tdu0", "up"])
        let dir = NSTemporaryDirectory() + "tk2-st-\(getpid())-\(index)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = "global_defs {\n \(global)\n}\nvrrp_instance A {\n interface tdu0\n virtual_router_id 7\n \(lines)\n"
            + " virtual_ipaddress {\n  10.234.9.9/24\n }\n}\n"
        try text.write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let theirs = ns.run(["keepalived", "-t", "-f", dir + "/k.conf"])
        let ours = ns.tandem(["keepalived", "-t", "-f", dir + "/k.conf"])
        #expect(theirs.status == theirsExpected, "\(text)\nkeepalived \(theirs.status) \(theirs.stderr)")
        #expect(ours.status == oursExpected, "\(text)\ntandem \(ours.status) \(ours.stderr)")
    }

    @Test(arguments: files)
    func verdictMatchesKeepalived(file: String) {
        let theirs = Shell.run(["keepalived", "-t", "-f", file])
        let out = CapturedOutput()
        let ours = KeepalivedTool(output: out).run(["-t", "-f", file])
        let name = file.split(separator: "/").last.map(String.init) ?? file
        if let (expected, why) = Self.deliberate[name], file.hasPrefix(Self.samples) {
            #expect(ours == expected && ours != theirs.status, "\(name): \(why): keepalived \(theirs.status), tandem \(ours): \(out.stderr)")
        } else {
            #expect(ours == theirs.status, "\(name): keepalived \(theirs.status) [\(theirs.stderr)], tandem \(ours): \(out.stderr)")
        }
    }
}
