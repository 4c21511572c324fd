import Foundation
import TestSupport
import Testing

/// track_file beside keepalived 2.2.7: router a (Tandem, then keepalived itself, from
/// the same file) tracks a file with weight 1 against a keepalived peer of priority 130.
/// The value read from the file moves a's priority (100 + value) and -254 puts it in
/// FAULT; both routers must hand the address over at the same steps.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedTrackFileTests {
    static let c = VRRPTestConfig(version: 3, interval: 0.2)
    static let vip = VRRPTestConfig.vip(0)

    /// Who holds the address after each value is written ("a", "b" or "both"/"none").
    func holders(_ kind: VRRPRouter.Kind, values: [String], initFile: Int?) throws -> [String] {
        let pair = try SwitchedPair(tag: "tf\(kind.rawValue.prefix(1))", prefix: "tk2")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tk2-trackfile-\(getpid())-\(kind)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/prio"
        if initFile == nil { try "0\n".write(toFile: file, atomically: false, encoding: .utf8) }
        let top = ["track_file tf1 {", "  file \(file)", "  weight 1"] + (initFile.map { ["  init_file \($0)"] } ?? []) + ["}"]
        let a = try VRRPRouter(kind, in: pair.a, config: Self.c.text(pair, side: "a", instances: [
            .init(priority: 100, extra: ["track_file {", "    tf1", "  }"])], top: top))
        defer { a.remove() }
        let b = try VRRPRouter(.keepalived, in: pair.b, config: Self.c.text(pair, side: "b", instances: [.init(priority: 130)]))
        defer { b.remove() }
        func holder() -> String {
            let (x, y) = (pair.holds("a", Self.vip), pair.holds("b", Self.vip))
            return x && y ? "both" : x ? "a" : y ? "b" : "none"
        }
        var seen: [String] = []
        // Settle: the start, from the file as it is (or as init_file made it).
        _ = eventually(within: 6) { holder() == (initFile.map { $0 > 30 } == true ? "a" : "b") }
        usleep(1_500_000)
        seen.append(holder())
        for v in values {
            // Written in place, as an operator's `echo N > file` does (close after write).
            try v.write(toFile: file, atomically: false, encoding: .utf8)
            let expected = Int(v.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0 > 30 && $0 > -254 ? "a" : "b" } ?? "b"
            _ = eventually(within: 6) { holder() == expected }
            usleep(1_500_000)
            seen.append(holder())
        }
        if initFile != nil { seen.append("file:" + Vectors.readText(file).trimmingCharacters(in: .whitespacesAndNewlines)) }
        return seen
    }

    @Test func fileValueMovesPriorityAndFaultsAsUnderKeepalived() throws {
        // 0: 100 < 130 (the control: the file adds nothing); 60: 160 > 130; 20: 120 < 130;
        // 0x40 (64, strtol's hex): 164; -254: FAULT even though 100 - 254 clamps to 1.
        let values = ["60\n", "20\n", "0x40\n", "-254\n", "45\n"]
        let tandem = try holders(.tandem, values: values, initFile: nil)
        let keepalived = try holders(.keepalived, values: values, initFile: nil)
        #expect(tandem == keepalived, "tandem \(tandem) keepalived \(keepalived)")
        #expect(tandem == ["b", "a", "b", "a", "b", "a"], "\(tandem)")
    }

    @Test func initFileWritesTheStartingValueAsUnderKeepalived() throws {
        let tandem = try holders(.tandem, values: [], initFile: 50)
        let keepalived = try holders(.keepalived, values: [], initFile: 50)
        #expect(tandem == keepalived, "tandem \(tandem) keepalived \(keepalived)")
        #expect(tandem == ["a", "file:50"], "\(tandem)")
    }
}
