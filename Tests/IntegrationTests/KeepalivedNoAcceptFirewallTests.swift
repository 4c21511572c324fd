import Foundation
import TestSupport
import Testing

/// `no_accept` on a master that is not the address owner, beside keepalived 2.2.7: the
/// same nftables table while MASTER (`nft list ruleset` compared as text), a ping to
/// the address unanswered, and no table left after a stop. The control is each tool
/// with `accept`: the address answers and no table is built, so the ping and the listing
/// can tell the two modes apart.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived") && Shell.which("ping")
                             && Shell.which("nft"), "needs root, keepalived, nft and ping"))
struct KeepalivedNoAcceptFirewallTests {
    static let c = VRRPTestConfig(version: 3, interval: 0.2)
    static let vip = VRRPTestConfig.vip(0)

    struct Seen {
        var answers: Bool
        var ruleset: String
        var afterStop: String
    }

    func observe(_ kind: VRRPRouter.Kind, _ tag: String, lines: [String], globals: [String] = []) throws -> Seen {
        let pair = try SwitchedPair(tag: "\(tag)\(kind.rawValue.prefix(1))", prefix: "tkb")
        defer { pair.remove() }
        var text = Self.c.text(pair, side: "a", instances: [.init(priority: 150, extra: lines)])
        if !globals.isEmpty {
            text = text.replacingOccurrences(of: "global_defs {\n", with: "global_defs {\n" + globals.map { "  \($0)\n" }.joined())
        }
        let a = try VRRPRouter(kind, in: pair.a, config: text)
        defer { a.remove() }
        #expect(eventually(within: 8) { pair.holds("a", Self.vip) }, "\(kind) \(lines): \(a.log)")
        usleep(500_000)
        let ruleset = pair.a.run(["nft", "list", "ruleset"]).stdout
        let answers = pair.b.run(["ping", "-c", "2", "-W", "1", "-i", "0.2", Self.vip], timeout: 10).status == 0
        a.stop()
        let after = pair.a.run(["nft", "list", "ruleset"]).stdout
        return Seen(answers: answers, ruleset: ruleset, afterStop: after)
    }

    @Test func noAcceptDropsAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "nd", lines: ["no_accept"])
        let keepalived = try observe(.keepalived, "nd", lines: ["no_accept"])
        #expect(!tandem.answers && !keepalived.answers, "tandem \(tandem.answers) keepalived \(keepalived.answers)")
        #expect(tandem.ruleset == keepalived.ruleset && tandem.ruleset.contains("ip daddr @vips drop")
                && tandem.ruleset.contains("elements = { \(Self.vip) }"), "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)")
        #expect(tandem.afterStop.isEmpty && keepalived.afterStop.isEmpty, "tandem:\n\(tandem.afterStop)\nkeepalived:\n\(keepalived.afterStop)")
        // The control: accept answers, with no table, under both.
        let open = try observe(.tandem, "na", lines: ["accept"]), theirs = try observe(.keepalived, "na", lines: ["accept"])
        #expect(open.answers && theirs.answers && open.ruleset.isEmpty && theirs.ruleset.isEmpty,
                "tandem \(open.answers) \(open.ruleset) keepalived \(theirs.answers) \(theirs.ruleset)")
    }

    /// Strict mode with no accept written, a named table at another priority with counters.
    @Test func strictModeTableSettingsAsUnderKeepalived() throws {
        let globals = ["vrrp_strict", "nftables tkbwall", "nftables_priority 3", "nftables_counters"]
        let tandem = try observe(.tandem, "ns", lines: [], globals: globals)
        let keepalived = try observe(.keepalived, "ns", lines: [], globals: globals)
        #expect(!tandem.answers && !keepalived.answers, "tandem \(tandem.answers) keepalived \(keepalived.answers)")
        // The counters differ by what each side's ping was: compare the shape without them.
        func shape(_ s: String) -> String { s.replacingOccurrences(of: #"packets \d+ bytes \d+"#, with: "packets N bytes N", options: .regularExpression) }
        #expect(shape(tandem.ruleset) == shape(keepalived.ruleset) && tandem.ruleset.contains("table ip tkbwall")
                && tandem.ruleset.contains("priority filter + 3") && tandem.ruleset.contains("counter packets"),
                "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)")
        #expect(tandem.afterStop.isEmpty && keepalived.afterStop.isEmpty)
    }
}
