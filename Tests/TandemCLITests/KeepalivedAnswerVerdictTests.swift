import Foundation
import TestSupport
import Testing

/// `tandem keepalived -t` against keepalived 2.2.7's own `-t` on virtual_routes lines and
/// the master-answer options (garp_lower_prio_*, lower_prio_no_advert,
/// higher_prio_send_advert, down_timer_adverts): the same exit code for each file. The
/// clean files are the controls: both tools accept them (0).
@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("keepalived"), "needs root and keepalived"))
struct KeepalivedAnswerVerdictTests {
    /// global_defs lines, instance lines, the exit code both must give.
    static let cases: [(String, String, Int32)] = [
        ("", " virtual_routes {\n  10.8.0.0/16 via 10.234.9.1 dev tka0\n  10.7.0.0/16 dev tka0\n  10.5.0.0/16 via 10.234.9.1 no_track\n }", 0),
        // An untracked route for want of an interface is keepalived's configuration error.
        ("", " virtual_routes {\n  10.8.0.0/16 via 10.234.9.1\n }", 5),
        ("", " virtual_routes {\n  10.9.0.0/33 via 10.234.9.1\n }", 5),
        ("", " virtual_routes {\n  10.8.0.0/16 via notanaddr\n }", 5),
        ("", " virtual_routes {\n  10.7.0.0/16 frobnicate 3\n }", 5),
        ("", " virtual_routes {\n  10.6.0.0/16 dev nosuchdev\n }", 5),
        ("vrrp_garp_lower_prio_repeat 2\n vrrp_garp_lower_prio_delay 3\n vrrp_lower_prio_no_advert\n vrrp_higher_prio_send_advert true\n vrrp_down_timer_adverts 4",
         " garp_lower_prio_repeat 1\n garp_lower_prio_delay 0\n lower_prio_no_advert off\n higher_prio_send_advert\n down_timer_adverts 7", 0),
        ("", " down_timer_adverts 0", 5),
        ("vrrp_down_timer_adverts 101", "", 5),
        ("", " garp_lower_prio_repeat -1", 5),
        ("", " lower_prio_no_advert maybe", 5),
        ("vrrp_higher_prio_send_advert sometimes", "", 5),
        ("vrrp_strict", " accept", 0),
        ("vrrp_strict", " accept\n garp_lower_prio_repeat 2", 5),
        ("vrrp_strict", " accept\n lower_prio_no_advert false", 5),
        ("vrrp_strict", " accept\n higher_prio_send_advert", 5),
        ("vrrp_strict", " accept\n down_timer_adverts 5", 5),
    ]

    @Test(arguments: cases.indices)
    func verdictMatchesKeepalived(index: Int) throws {
        let (global, lines, expected) = Self.cases[index]
        let ns = try TestNamespace("av\(index)", prefix: "tka")
        defer { ns.remove() }
        #expect(ns.run(["ip", "link", "add", "tka0", "type", "veth", "peer", "name", "tka1"]).status == 0)
        ns.run(["ip", "link", "set", "tka0", "up"])
        let dir = NSTemporaryDirectory() + "tka-av-\(getpid())-\(index)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = "global_defs {\n \(global)\n}\nvrrp_instance A {\n interface tka0\n virtual_router_id 7\n version 3\n priority 100\n"
            + " virtual_ipaddress {\n  10.234.9.9/24\n }\n\(lines)\n}\n"
        try text.write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let theirs = ns.run(["keepalived", "-t", "-f", dir + "/k.conf"])
        let ours = ns.tandem(["keepalived", "-t", "-f", dir + "/k.conf"])
        #expect(theirs.status == expected, "\(text)\nkeepalived \(theirs.status) \(theirs.stderr)")
        #expect(ours.status == expected, "\(text)\ntandem \(ours.status) \(ours.stderr)")
        // An error names its file and line.
        if expected == 5 { #expect(ours.stderr.contains(dir + "/k.conf:"), "\(ours.stderr)") }
    }
}
