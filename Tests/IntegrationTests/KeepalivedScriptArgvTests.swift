import Foundation
import TestSupport
import Testing

/// A vrrp_script's command line reaches the program as keepalived 2.2.7 passes it: split by
/// keepalived's own quoting rules and executed directly, no shell between. The script
/// writes the words it received; Tandem and keepalived run the same file and must leave
/// the same words. The control runs the same line through `/bin/sh -c`, which gives other
/// words, so the comparison can tell the two apart.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"),
                             "needs root and keepalived"))
struct KeepalivedScriptArgvTests {
    /// The argument part of the line: quotes, a backslash read twice (keepalived reads the
    /// quoted line, then the command line), a shell operator.
    static let arguments = #"'a b' c\\ d ; x"#

    static func script(in dir: String) throws -> String {
        let script = dir + "/argv.sh"
        // One line per argument, then a marker: a short file is an unfinished one.
        try "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \(dir)/out/words.tmp\necho END >> \(dir)/out/words.tmp\nmv \(dir)/out/words.tmp \(dir)/out/words\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return script
    }

    func words(_ kind: VRRPRouter.Kind) throws -> [String] {
        let pair = try SwitchedPair(tag: "sa\(kind.rawValue.prefix(1))", prefix: "tka")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tka-argv-\(getpid())-\(kind)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o755)
        let script = try Self.script(in: dir)
        let top = ["vrrp_script chk {\n  script \"\(script) \(Self.arguments)\"\n  interval 1\n}"]
        let config = VRRPTestConfig(version: 3, interval: 0.2).text(pair, side: "a", instances: [
            .init(priority: 100, extra: ["track_script {\n    chk\n  }"]),
        ], top: top)
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        #expect(eventually(within: 10) { FileManager.default.fileExists(atPath: dir + "/out/words") }, "\(kind): \(router.log)")
        router.stop()
        return Vectors.readText(dir + "/out/words").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func aCheckReceivesTheWordsKeepalivedGivesIt() throws {
        let tandem = try words(.tandem), keepalived = try words(.keepalived)
        #expect(tandem == keepalived, "tandem \(tandem) keepalived \(keepalived)")
        #expect(tandem == ["a b", "c d", ";", "x", "END", ""], "\(tandem)")
        // The control: a shell keeps a backslash of the two and ends the command at `;`.
        let dir = NSTemporaryDirectory() + "tka-argv-sh-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = try Self.script(in: dir)
        Shell.run(["/bin/sh", "-c", "\(script) \(Self.arguments)"])
        let shell = Vectors.readText(dir + "/out/words").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(shell.first == "a b" && shell != tandem && !shell.contains(";"), "\(shell)")
    }
}
