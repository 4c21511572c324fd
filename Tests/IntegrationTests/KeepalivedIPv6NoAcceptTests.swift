import Foundation
import TestSupport
import Testing

/// `no_accept` with IPv6 addresses on a master that is not their owner, beside keepalived
/// 2.2.7: the same `ip6` table while MASTER (`nft list ruleset` compared as text, the
/// interface's name written IF), a ping6 to the global address unanswered, no table left
/// after a stop. The control is each tool with `accept`: the address answers and no table
/// is built.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived") && Shell.which("ping") && Shell.which("nft"),
                             "needs root, keepalived, nft and ping"))
struct KeepalivedIPv6NoAcceptTests {
    static let vip = "fd00:143::100"

    struct Seen {
        var answers: Bool
        var ruleset: String
        var afterStop: String
        var log: String
    }

    func observe(_ kind: VRRPRouter.Kind, _ tag: String, lines: [String], globals: [String] = []) throws -> Seen {
        let pair = try SwitchedPair(tag: "\(tag)\(kind.rawValue.prefix(1))", prefix: "tkg", network: "10.143")
        defer { pair.remove() }
        let dev = pair.interface("a", 0)
        for (side, address) in [("a", "fd00:143::1/64"), ("b", "fd00:143::2/64"), ("a", "fe80::143:a/64"), ("b", "fe80::143:b/64")] {
            let r = pair.namespace(side).run(["ip", "-6", "addr", "add", address, "dev", pair.interface(side, 0), "nodad"])
            if r.status != 0 { throw TestSetupError("\(address): \(r.stderr)") }
        }
        let text = (globals.isEmpty ? "" : "global_defs {\n" + globals.map { "  \($0)\n" }.joined() + "}\n")
            + "vrrp_instance VI_6 {\n  interface \(dev)\n  virtual_router_id 61\n  priority 150\n  advert_int 0.2\n"
            + lines.map { "  \($0)\n" }.joined()
            + "  virtual_ipaddress {\n    fe80::143:1/64\n    \(Self.vip)/64\n  }\n}\n"
        let a = try VRRPRouter(kind, in: pair.a, config: text)
        defer { a.remove() }
        #expect(eventually(within: 8) { pair.namespace("a").run(["ip", "-6", "-br", "addr"]).stdout.contains(Self.vip + "/") }, "\(kind) \(lines): \(a.log)")
        usleep(500_000)
        let ruleset = pair.a.run(["nft", "list", "ruleset"]).stdout.replacingOccurrences(of: "\"\(dev)\"", with: "\"IF\"")
        let answers = pair.b.run(["ping", "-6", "-c", "2", "-W", "1", "-i", "0.2", Self.vip], timeout: 10).status == 0
        a.stop()
        let after = pair.a.run(["nft", "list", "ruleset"]).stdout
        return Seen(answers: answers, ruleset: ruleset, afterStop: after, log: a.log)
    }

    @Test func ipv6NoAcceptDropsAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "6d", lines: ["no_accept"])
        let keepalived = try observe(.keepalived, "6d", lines: ["no_accept"])
        #expect(!tandem.answers && !keepalived.answers, "tandem \(tandem.answers) keepalived \(keepalived.answers)")
        #expect(tandem.ruleset == keepalived.ruleset && tandem.ruleset.contains("ip6 daddr @vips drop")
                && tandem.ruleset.contains("elements = { \(Self.vip) }") && tandem.ruleset.contains("fe80::143:1 . \"IF\""),
                "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)\n\(tandem.log)")
        #expect(tandem.afterStop.isEmpty && keepalived.afterStop.isEmpty, "tandem:\n\(tandem.afterStop)\nkeepalived:\n\(keepalived.afterStop)")
        // The control: accept answers, with no table, under both.
        let open = try observe(.tandem, "6a", lines: ["accept"]), theirs = try observe(.keepalived, "6a", lines: ["accept"])
        #expect(open.answers && theirs.answers && open.ruleset.isEmpty && theirs.ruleset.isEmpty,
                "tandem \(open.answers) \(open.ruleset) keepalived \(theirs.answers) \(theirs.ruleset)")
    }

    /// nftables_counters on the IPv6 table: the same rules with a counter each as under
    /// keepalived (the counts compared as shape, each side's ping being its own). The
    /// control: without the option neither ruleset counts.
    @Test func ipv6CountersAsUnderKeepalived() throws {
        let tandem = try observe(.tandem, "6c", lines: ["no_accept"], globals: ["nftables_counters"])
        let keepalived = try observe(.keepalived, "6c", lines: ["no_accept"], globals: ["nftables_counters"])
        func shape(_ s: String) -> String { s.replacingOccurrences(of: #"packets \d+ bytes \d+"#, with: "packets N bytes N", options: .regularExpression) }
        #expect(shape(tandem.ruleset) == shape(keepalived.ruleset) && tandem.ruleset.contains("counter packets")
                && tandem.ruleset.contains("ip6 daddr @vips"), "tandem:\n\(tandem.ruleset)\nkeepalived:\n\(keepalived.ruleset)")
        #expect(!tandem.answers && !keepalived.answers && tandem.afterStop.isEmpty && keepalived.afterStop.isEmpty)
        let plain = try observe(.tandem, "6p", lines: ["no_accept"]), theirs = try observe(.keepalived, "6p", lines: ["no_accept"])
        #expect(!plain.ruleset.contains("counter") && !theirs.ruleset.contains("counter") && !plain.ruleset.isEmpty,
                "tandem:\n\(plain.ruleset)\nkeepalived:\n\(theirs.ruleset)")
    }

    /// With dont_track_primary the link-local address on the instance's own interface is
    /// kept by name (`vips_link_local_name`); nftables_ifindex brings back the index set.
    /// Each compared with keepalived's; the two differ from each other, so either can fail.
    @Test func ipv6LinkLocalSetsAsUnderKeepalived() throws {
        let byName = try observe(.tandem, "6n", lines: ["no_accept", "dont_track_primary"])
        let theirsByName = try observe(.keepalived, "6n", lines: ["no_accept", "dont_track_primary"])
        #expect(byName.ruleset == theirsByName.ruleset && byName.ruleset.contains("ip6 daddr . iifname @vips_link_local_name drop"),
                "tandem:\n\(byName.ruleset)\nkeepalived:\n\(theirsByName.ruleset)")
        let byIndex = try observe(.tandem, "6i", lines: ["no_accept", "dont_track_primary"], globals: ["nftables_ifindex"])
        let theirsByIndex = try observe(.keepalived, "6i", lines: ["no_accept", "dont_track_primary"], globals: ["nftables_ifindex"])
        #expect(byIndex.ruleset == theirsByIndex.ruleset && byIndex.ruleset.contains("ip6 daddr . iif @vips_link_local drop"),
                "tandem:\n\(byIndex.ruleset)\nkeepalived:\n\(theirsByIndex.ruleset)")
        #expect(byName.ruleset != byIndex.ruleset)
    }
}
