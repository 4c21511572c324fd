import StateSync
import TandemCLI
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--sync-key FILE`: at least 32 bytes, one trailing newline ignored, owner-only; a
/// refused key stops the start with one line naming the file. Each refusal has its
/// control: the same command line with a good key gets past it.
@Suite struct SyncKeyFlagTests {
    static let lab = SharedVectors.sharedDirectory + "/vectors/reference-output/sync-stop-polDROP-poll5/fw1-conntrackd.conf"

    /// Writes `content` to a fresh file with `mode`; the caller unlinks it.
    static func keyFile(_ name: String, _ content: [UInt8], mode: mode_t = 0o600) -> String {
        let path = "/tmp/tqa-key-\(getpid())-\(name)"
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        return path
    }

    static let good = Array("c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5".utf8)

    @Test func aTrailingNewlineIsNotPartOfTheKey() throws {
        let withNewline = Self.keyFile("nl", Self.good + [10])
        let without = Self.keyFile("plain", Self.good)
        defer { unlink(withNewline); unlink(without) }
        let a = try SyncKey.load(file: withNewline), b = try SyncKey.load(file: without)
        #expect(a == b)
        #expect(a.bytes == Self.good)
        // Only one newline goes: a second is key material.
        let two = Self.keyFile("two", Self.good + [10, 10])
        defer { unlink(two) }
        #expect(try SyncKey.load(file: two).bytes == Self.good + [10])
    }

    @Test func aShortKeyIsRefused() throws {
        let short = Self.keyFile("short", Array("too-short-31-bytes-0123456789ab".utf8) + [10])
        let exact = Self.keyFile("exact", Array("exactly-32-bytes-0123456789abcde".utf8))
        defer { unlink(short); unlink(exact) }
        #expect(throws: SyncKeyError.tooShort(file: short, length: 31)) { try SyncKey.load(file: short) }
        #expect(try SyncKey.load(file: exact).bytes.count == 32)
    }

    @Test func aKeyOthersCanReadIsRefused() throws {
        for mode: mode_t in [0o644, 0o640, 0o604, 0o620, 0o602] {
            let open = Self.keyFile("open\(mode)", Self.good, mode: mode)
            defer { unlink(open) }
            #expect(throws: SyncKeyError.tooOpen(file: open, mode: UInt32(mode))) { try SyncKey.load(file: open) }
        }
        for mode: mode_t in [0o600, 0o400] {
            let closed = Self.keyFile("closed\(mode)", Self.good, mode: mode)
            defer { unlink(closed) }
            #expect(try SyncKey.load(file: closed).bytes == Self.good)
        }
        #expect(throws: SyncKeyError.self) { try SyncKey.load(file: "/tmp/tqa-key-does-not-exist") }
    }

    @Test func conntrackdRefusesABadKeyInOneLine() {
        let open = Self.keyFile("cli-open", Self.good, mode: 0o644)
        let good = Self.keyFile("cli-good", Self.good)
        defer { unlink(open); unlink(good) }
        let refused = CapturedOutput()
        #expect(ConntrackdTool(output: refused).run(["--check", "-C", Self.lab, "--sync-key", open]) == 1)
        #expect(refused.stderr == ["conntrackd cannot start: sync key file \(open): mode 644 lets group or others at it; chmod 600 it"])
        let nextOnly = CapturedOutput()
        #expect(ConntrackdTool(output: nextOnly).run(["--check", "-C", Self.lab, "--sync-key-next=\(good)"]) == 1)
        #expect(nextOnly.stderr == ["conntrackd cannot start: --sync-key-next needs --sync-key too"])
        let client = CapturedOutput()
        #expect(ConntrackdTool(output: client).run(["-C", Self.lab, "--sync-key", good, "-s"]) == 1)
        #expect(client.stderr.first?.contains("not supported with a client request") == true)
        // Control: the same check with an owner-only key passes.
        let ok = CapturedOutput()
        #expect(ConntrackdTool(output: ok).run(["--check", "-C", Self.lab, "--sync-key", good, "--sync-key-next", good]) == 0)
        #expect(!ok.stderr.joined().contains("sync key"))
        #expect(ok.stdout.first?.contains("configuration OK") == true)
    }

    /// The rotation's last step removes the next-key file; the same command line must
    /// still start the node (with no next key). Any other problem with the file is
    /// still refused: the control.
    @Test func aMissingNextKeyFileMeansNoNextKey() throws {
        let good = Self.keyFile("next-good", Self.good)
        let open = Self.keyFile("next-open", Self.good, mode: 0o644)
        let missing = "/tmp/tqa-key-\(getpid())-next-missing"
        defer { unlink(good); unlink(open) }
        unlink(missing)
        let keys = try SyncKeys.load(current: good, next: missing)
        #expect(keys.next == nil && keys.current.bytes == Self.good)
        #expect(try SyncKeys.load(current: good, next: good).next == keys.current)
        #expect(throws: SyncKeyError.tooOpen(file: open, mode: 0o644)) { try SyncKeys.load(current: good, next: open) }
        #expect(throws: SyncKeyError.self) { try SyncKeys.load(current: missing, next: good) }
        let started = CapturedOutput()
        #expect(ConntrackdTool(output: started).run(["--check", "-C", Self.lab, "--sync-key", good, "--sync-key-next", missing]) == 0)
        #expect(started.stdout.first?.contains("configuration OK") == true, "\(started.stderr)")
        let refused = CapturedOutput()
        #expect(ConntrackdTool(output: refused).run(["--check", "-C", Self.lab, "--sync-key", good, "--sync-key-next", open]) == 1)
        #expect(refused.stderr == ["conntrackd cannot start: sync key file \(open): mode 644 lets group or others at it; chmod 600 it"])
    }

    @Test func runRefusesABadKeyBeforeReadingTheConfiguration() {
        let short = Self.keyFile("run-short", Array("short".utf8))
        let good = Self.keyFile("run-good", Self.good)
        defer { unlink(short); unlink(good) }
        let refused = CapturedOutput()
        #expect(RunTool(output: refused).run(["--sync-key", short, "--check", "--conntrackd-config", "/tmp/tqa-none.conf"]) == 1)
        #expect(refused.stderr.count == 1)
        #expect(refused.stderr.first?.hasPrefix("tandem run: sync key file \(short): 5 bytes; at least 32 are needed") == true)
        // Control: a good key gets past the key check (and stops at the missing file).
        let control = CapturedOutput()
        _ = RunTool(output: control).run(["--sync-key", good, "--check", "--keepalived-config", "/tmp/tqa-none.conf"])
        #expect(!(control.stderr.first ?? "").contains("sync key"))
        #expect(control.stderr.first?.contains("tqa-none.conf") == true)
    }
}
