import Foundation
import TestSupport
import Testing

/// DisableInternalCache (NOTRACK) on a Tandem sender paired with conntrackd 1.4.7: events
/// reach the peer without an internal cache, `-i` lists the kernel table itself, `-s`
/// shows the bypass block and `-R` is refused.
extension ConntrackdInteropTests {
    @Test func internalBypassTandemToReference() throws {
        var extra = Pair.Extra()
        extra.mode = "DisableInternalCache on"
        let pair = try Pair("byp", a: .tandem, b: .reference, mode: "NOTRACK", extra: extra)
        defer { pair.stop() }
        replicate(pair, from: "a", to: "b")
        let listing = pair.query("a", ["-i"])
        #expect(listing.contains { $0.hasPrefix("tcp      6 ") && $0.contains(" ESTABLISHED src=10.1.1.1 dst=10.2.2.2 sport=1000 dport=80 ") && $0.hasSuffix(" use=1") },
                "\(listing.joined(separator: "\n"))")
        let stats = pair.query("a", ["-s"]).joined(separator: "\n")
        #expect(stats.contains("internal bypass:"), "\(stats)")
        _ = pair.query("a", ["-R"])
        let log = (try? String(contentsOfFile: "\(pair.dir)/a.log", encoding: .utf8)) ?? ""
        let out = (try? String(contentsOfFile: "\(pair.dir)/a.out", encoding: .utf8)) ?? ""
        #expect((log + out).contains("resync is unsupported in this mode"), "\(log)\(out)")
    }
}
