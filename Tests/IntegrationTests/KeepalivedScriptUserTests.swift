import Foundation
import TestSupport
import Testing

/// Scripts run as the user keepalived 2.2.7 runs them as: a vrrp_script's `user`, the
/// words after a notify command, global_defs' `script_user` for the rest, and root when
/// nothing names a user (no keepalived_script account on the test host). Each script
/// writes what `id` says into a directory anyone can write; the same file is run by
/// Tandem and by keepalived and both must leave the same lines.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived")
                             && getpwnam("nobody") != nil && getgrnam("nogroup") != nil && getpwnam("keepalived_script") == nil,
                             "needs root, keepalived, nobody/nogroup and no keepalived_script user"))
struct KeepalivedScriptUserTests {
    /// "label uid gid groups" lines, one per label, after the instance became master.
    func identities(_ kind: VRRPRouter.Kind, scriptUser: String?) throws -> Set<String> {
        let pair = try SwitchedPair(tag: "su\(kind.rawValue.prefix(1))", prefix: "tk2")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tk2-scriptuser-\(getpid())-\(kind)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The script's path is root's alone; only the output directory is open to all.
        chmod(dir, 0o755)
        chmod(dir + "/out", 0o777)
        let script = dir + "/ids.sh"
        // Written aside and renamed into place: a track script runs every second and notify
        // at each transition, and a file truncated for the next run must never be read.
        let out = dir + "/out"
        try "#!/bin/sh\necho \"$1 $(id -u) $(id -g) $(id -G)\" > \(out)/.$1.$$ && mv -f \(out)/.$1.$$ \(out)/$1\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let top = ["vrrp_script chk_nobody {\n  script \"\(script) track-nobody\"\n  interval 1\n  user nobody\n}",
                   "vrrp_script chk_default {\n  script \"\(script) track-default\"\n  interval 1\n}"]
            + (scriptUser.map { ["global_defs {\n  script_user \($0)\n}"] } ?? [])
        let config = VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "a", instances: [.init(priority: 100, extra: [
            "track_script {\n    chk_nobody\n    chk_default\n  }",
            "notify_master \"\(script) master-nobody\" nobody nogroup",
            "notify \"\(script) notify-default\"",
        ])], top: top)
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        let labels = ["track-nobody", "track-default", "master-nobody", "notify-default"]
        // 30 s: under a full CI run keepalived 2.2.7 (the reference side) once had not yet
        // become master 15 s in, so its notify_master file was missing.
        let done = eventually(within: 30) { labels.allSatisfy { FileManager.default.fileExists(atPath: dir + "/out/" + $0) } }
        #expect(done, "\(kind): \(router.log)")
        router.stop()
        return Set(labels.map { Vectors.readText(dir + "/out/" + $0).trimmingCharacters(in: .whitespacesAndNewlines) })
    }

    @Test func scriptsRunAsTheirConfiguredUsersAsUnderKeepalived() throws {
        let tandem = try identities(.tandem, scriptUser: nil), keepalived = try identities(.keepalived, scriptUser: nil)
        #expect(tandem == keepalived, "tandem \(tandem.sorted()) keepalived \(keepalived.sorted())")
        // Named users are dropped to; the control, scripts naming no one, run as root with
        // root's group alone.
        #expect(tandem == ["track-nobody 65534 65534 65534", "master-nobody 65534 65534 65534",
                           "track-default 0 0 0", "notify-default 0 0 0"], "\(tandem.sorted())")
    }

    @Test func scriptUserIsTheDefaultOfScriptsNamingNone() throws {
        let tandem = try identities(.tandem, scriptUser: "nobody"), keepalived = try identities(.keepalived, scriptUser: "nobody")
        #expect(tandem == keepalived, "tandem \(tandem.sorted()) keepalived \(keepalived.sorted())")
        #expect(tandem == ["track-nobody 65534 65534 65534", "master-nobody 65534 65534 65534",
                           "track-default 65534 65534 65534", "notify-default 65534 65534 65534"], "\(tandem.sorted())")
    }
}
