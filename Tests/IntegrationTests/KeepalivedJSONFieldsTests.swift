import Foundation
import TestSupport
import Testing

/// The JSON dump (SIGRTMIN+2) of one instance, Tandem's against keepalived 2.2.7's for the
/// same file: the excluded addresses (`evips`) and the master-answer settings.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedJSONFieldsTests {
    static let compared = ["vips", "evips", "garp_lower_prio_delay", "garp_lower_prio_rep", "lower_prio_no_advert", "higher_prio_send_advert"]

    /// The compared fields of the dump, as JSON text (a missing one as "-").
    func fields(_ kind: VRRPRouter.Kind, extra: [String]) throws -> [String: String] {
        let tag = "j\(kind.rawValue.prefix(1))\(extra.count)"
        let pair = try SwitchedPair(tag: tag, prefix: "tka")
        defer { pair.remove() }
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let router = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 100, extra: extra)]))
        defer { router.remove() }
        try #require(eventually(within: 10) { pair.holds("a", VRRPTestConfig.vip(0)) }, "\(router.log)")
        let text = router.dump(36, file: "keepalived.json")
        let objects = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
        let data = try #require(objects.first?["data"] as? [String: Any], "\(text)")
        // Each pair has its own interface name.
        let interface = pair.interface("a", 0)
        var out: [String: String] = [:]
        for key in Self.compared {
            out[key] = data[key].map { v in
                (try? JSONSerialization.data(withJSONObject: v, options: [.fragmentsAllowed, .sortedKeys])).map { String(decoding: $0, as: UTF8.self).replacingOccurrences(of: interface, with: "IF") } ?? "?"
            } ?? "-"
        }
        return out
    }

    @Test func excludedAddressesAndAnswerSettingsAreDumpedAsKeepalivedDumpsThem() throws {
        let extra = ["virtual_ipaddress_excluded {\n    10.77.0.150/24\n    10.77.0.151/32\n  }", "garp_lower_prio_delay 7",
                     "garp_lower_prio_repeat 2", "lower_prio_no_advert", "higher_prio_send_advert"]
        let (t, k) = (try fields(.tandem, extra: extra), try fields(.keepalived, extra: extra))
        #expect(t == k, "tandem \(t)\nkeepalived \(k)")
        #expect(t["evips"]?.contains("10.77.0.151") == true && t["garp_lower_prio_rep"] == "2", "\(t)")
        // The control: without them, keepalived writes no evips and its defaults, and so
        // does Tandem.
        let (tp, kp) = (try fields(.tandem, extra: []), try fields(.keepalived, extra: []))
        #expect(tp == kp, "tandem \(tp)\nkeepalived \(kp)")
        #expect(tp["evips"] == "-" && tp["garp_lower_prio_rep"] == "5" && tp != t, "\(tp)")
    }
}
