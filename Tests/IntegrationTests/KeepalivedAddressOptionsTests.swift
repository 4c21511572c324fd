import Foundation
import TestSupport
import Testing

/// A virtual_ipaddress line's `-nodad` and `preferred_lft` beside keepalived 2.2.7: the
/// same file gives the same `-t` verdict, and the same address list leaves the same
/// kernel flags (nodad, deprecated, preferred lifetime) when each is master. The words
/// keepalived does not know (`nodad`, `valid_lft`) are its errors, not Tandem refusals.
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedAddressOptionsTests {
    static func instance(_ interface: String, vips: String) -> String {
        "vrrp_instance VI_1 {\n  interface \(interface)\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n\(vips)\n  }\n}\n"
    }

    @Test func checkVerdictsBesideKeepalived() throws {
        let ns = try TestNamespace("chk", prefix: "tkd")
        defer { ns.remove() }
        ns.run(["ip", "link", "add", "tkdv0", "type", "veth", "peer", "name", "tkdv1"])
        let dir = NSTemporaryDirectory() + ns.name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // (name, address line, exit code both must give, words both must say)
        let cases: [(String, String, Int32, String?)] = [
            ("plain", "10.1.1.1/24", 0, nil),
            ("nodad", "10.1.1.1/24 nodad", 5, "Unknown configuration entry 'nodad' for ip address - ignoring"),
            ("valid_lft", "10.1.1.1/24 valid_lft forever", 5, "Unknown configuration entry 'forever' for ip address - ignoring"),
            ("acted on", "10.1.1.1/24 -nodad preferred_lft 30", 0, nil),
            ("bad lifetime", "10.1.1.1/24 preferred_lft soon", 5, "preferred_lft soon is invalid"),
        ]
        for (name, line, code, words) in cases {
            let file = "\(dir)/\(name.replacingOccurrences(of: " ", with: "-")).conf"
            try Self.instance("tkdv0", vips: "    " + line).write(toFile: file, atomically: true, encoding: .utf8)
            let theirs = ns.run(["timeout", "10", "keepalived", "-t", "-l", "-n", "-f", file], timeout: 20)
            let ours = ns.tandem(["keepalived", "-t", "-f", file])
            #expect(theirs.status == code, "\(name): keepalived \(theirs.status) \(theirs.stderr)")
            #expect(ours.status == code, "\(name): tandem \(ours.status) \(ours.stderr)")
            if let words {
                #expect(theirs.stderr.contains(words) && ours.stderr.contains(words) && ours.stderr.contains("\(file):7:"),
                        "\(name): keepalived \(theirs.stderr)\ntandem \(ours.stderr)")
            }
            #expect(!ours.stderr.contains("not supported"), "\(name): \(ours.stderr)")
        }
    }

    /// Each side's addresses in its own prefix (no DAD clash on the shared segment); the
    /// suffixes carry the options.
    static let suffixes: [(String, String)] = [
        ("1", "/64"),                       // the control: nodad, preferred forever
        ("2", "/64 preferred_lft 0"),       // deprecated
        ("3", "/128"),                      // deprecated by keepalived's default
        ("4", "/128 preferred_lft forever"),
        ("5", "/64 -nodad"),                // DAD runs
        ("6", "/64 preferred_lft 300"),     // a finite preferred lifetime
    ]

    static func prefix(_ side: String) -> String { "fd00:77\(side)::" }

    static func config(_ pair: SwitchedPair, side: String, vrid: Int) -> String {
        let vips = suffixes.map { "    \(prefix(side))\($0.0)\($0.1)" }.joined(separator: "\n")
        return "global_defs {\n  router_id tkd-\(side)\n  vrrp_garp_interval 0.05\n  vrrp_gna_interval 0.25\n}\n"
            + instance(pair.interface(side, 0), vips: vips).replacingOccurrences(of: "virtual_router_id 51", with: "virtual_router_id \(vrid)")
    }

    /// Per suffix: the flags that matter here, as `ip -6 addr` shows them.
    static func flags(_ pair: SwitchedPair, _ side: String) -> [String: String] {
        let out = Shell.run(["ip", "-n", pair.namespace(side).name, "-6", "-o", "addr", "show", "dev", pair.interface(side, 0)]).stdout
        var result: [String: String] = [:]
        for line in out.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\\" }).map(String.init)
            guard let at = words.firstIndex(of: "inet6"), at + 1 < words.count, words[at + 1].hasPrefix(prefix(side)) else { continue }
            let suffix = String(words[at + 1].dropFirst(prefix(side).count).prefix { $0 != "/" })
            let preferred = words.firstIndex(of: "preferred_lft").map { words[$0 + 1] } ?? "?"
            let lifetime = preferred == "forever" ? "forever" : preferred == "0sec" ? "0" : "finite"
            result[suffix] = ["nodad", "deprecated"].filter(words.contains).joined(separator: ",") + " preferred=" + lifetime
        }
        return result
    }

    @Test func ipv6AddressFlagsBesideKeepalived() throws {
        let pair = try KeepalivedIPv6Tests.pair("ao", prefix: "tkd")
        defer { pair.remove() }
        // Different VRIDs: each is master of its own.
        let t = try VRRPRouter(.tandem, in: pair.a, config: Self.config(pair, side: "a", vrid: 71))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: Self.config(pair, side: "b", vrid: 72))
        defer { k.remove() }
        let held = { (side: String) in Self.flags(pair, side).count == Self.suffixes.count }
        try #require(eventually(within: 15) { held("a") && held("b") }, "\(t.log)\n\(k.log)")
        let (ours, theirs) = (Self.flags(pair, "a"), Self.flags(pair, "b"))
        #expect(ours == theirs, "tandem \(ours)\nkeepalived \(theirs)")
        // What keepalived's source says, seen in the kernel; the plain address (1) is the
        // control that the flags compared differ with the options.
        #expect(theirs["1"] == "nodad preferred=forever" && theirs["2"] == "nodad,deprecated preferred=0"
                && theirs["3"] == "nodad,deprecated preferred=0" && theirs["4"] == "nodad preferred=forever"
                && theirs["5"] == " preferred=forever" && theirs["6"] == "nodad preferred=finite", "\(theirs)")
        // The SIGUSR1 dump's global GARP / NA interval lines, as keepalived writes them.
        let globals = { (text: String) in
            text.split(separator: "\n").filter { $0.hasPrefix(" Gratuitous ARP interval") || $0.hasPrefix(" Gratuitous NA interval") }
        }
        let (ourDump, theirDump) = (globals(t.data()), globals(k.data()))
        #expect(theirDump == [" Gratuitous ARP interval = 0.050000", " Gratuitous NA interval = 0.250000"], "\(theirDump)")
        #expect(ourDump == theirDump, "tandem \(ourDump)\nkeepalived \(theirDump)")
    }
}
