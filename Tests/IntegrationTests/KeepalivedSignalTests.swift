import Foundation
import TestSupport
import Testing

/// keepalived's signals on Tandem with a real keepalived as its backup: SIGHUP reloads
/// without a flap, SIGUSR1/SIGUSR2/SIGRTMIN+2 dumps in keepalived's layout, no passwords.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedSignalTests {
    func masterWithKeepalivedBackup(_ c: VRRPTestConfig, tag: String, _ body: (SwitchedPair, VRRPRouter, VRRPRouter) throws -> Void) throws {
        let pair = try SwitchedPair(tag: tag)
        defer { pair.remove() }
        let t = try VRRPRouter(.tandem, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 150)]))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: c.text(pair, side: "b", instances: [.init(priority: 100)]))
        defer { k.remove() }
        try #require(eventually(within: 15) { pair.holds("a", VRRPTestConfig.vip(0)) && !pair.holds("b", VRRPTestConfig.vip(0)) },
                     "\(t.log)\n\(k.log)")
        try body(pair, t, k)
    }

    /// Tandem alone: a peer with the old address list would rightly reject the new adverts.
    @Test func reloadKeepsStateAndAppliesAddressChanges() throws {
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let pair = try SwitchedPair(tag: "hup")
        defer { pair.remove() }
        let t = try VRRPRouter(.tandem, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 150)]))
        defer { t.remove() }
        try #require(eventually(within: 10) { pair.holds("a", VRRPTestConfig.vip(0)) }, "\(t.log)")
        do {
            let (old, added, other) = (VRRPTestConfig.vip(0), VRRPTestConfig.vip(0, 101), VRRPTestConfig.vip(0, 150))
            try c.text(pair, side: "a", instances: [.init(priority: 160, vips: [old, added]),
                                                    .init(name: "VI_2", priority: 150, vrid: 60, vips: [other])])
                .write(toFile: t.configPath, atomically: true, encoding: .utf8)
            t.signal(SIGHUP)
            #expect(eventually(within: 5) { pair.holds("a", added) && pair.holds("a", old) }, "\(t.log)")
            // The new instance starts as BACKUP and, alone on its VRID, becomes master.
            #expect(eventually(within: 5) { pair.holds("a", other) }, "\(t.log)")
            try c.text(pair, side: "a", instances: [.init(priority: 160, vips: [added])]).write(toFile: t.configPath, atomically: true, encoding: .utf8)
            t.signal(SIGHUP)
            #expect(eventually(within: 5) { !pair.holds("a", old) && !pair.holds("a", other) && pair.holds("a", added) }, "\(t.log)")
            // A broken file is refused; the running configuration stays.
            try "vrrp_instance {\n".write(toFile: t.configPath, atomically: true, encoding: .utf8)
            t.signal(SIGHUP)
            #expect(eventually(within: 5) { t.log.contains("reload refused") }, "\(t.log)")
            #expect(pair.holds("a", added))
            let s = t.statistics()
            #expect(s.value("Became master", instance: "VI_1") == 1 && s.value("Released master", instance: "VI_1") == 0, "\(s)\n\(t.log)")
            #expect(t.data().contains("Priority = 160"))
            #expect(t.log.components(separatedBy: "(VI_1) Entering").count == 3, "VI_1: one BACKUP (init) and one MASTER only\n\(t.log)")
            #expect(t.log.contains("1 instance(s) kept, 1 added") && t.log.contains("(VI_2) removed by reload"), "\(t.log)")
        }
    }

    /// Numbers blanked, so two stats files compare by layout.
    static func skeleton(_ text: String) -> String {
        String(text.map { $0.isNumber ? "#" : $0 }).replacingOccurrences(of: "##", with: "#").replacingOccurrences(of: "##", with: "#")
    }

    static func json(_ text: String) -> [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
    }

    @Test func dumpsFollowKeepalivedsLayoutWithoutPasswords() throws {
        let c = VRRPTestConfig(version: 2, interval: 1, password: "secret1")
        try masterWithKeepalivedBackup(c, tag: "dump") { _, t, k in
            let (ts, ks) = (t.statistics(), k.statistics())
            #expect(Self.skeleton(ts.text).trimmingCharacters(in: .newlines) == Self.skeleton(ks.text).trimmingCharacters(in: .newlines),
                    "tandem:\n\(ts)\nkeepalived:\n\(ks)")
            #expect((ts.value("Advertisements/Sent") ?? 0) > 0 && ts.value("Became master") == 1, "\(ts)")
            let data = t.data()
            #expect(data.contains("State = MASTER") && data.contains("Virtual Router ID = 51"), "\(data)")
            #expect(!data.contains("secret1"), "\(data)")
            let (tj, kj) = (Self.json(t.dump(36, file: "keepalived.json")), Self.json(k.dump(36, file: "keepalived.json")))
            try #require(tj.count == 1 && kj.count == 1, "\(tj) \(kj)")
            let (tStats, kStats) = (tj[0]["stats"] as? [String: Any] ?? [:], kj[0]["stats"] as? [String: Any] ?? [:])
            #expect(Set(tStats.keys) == Set(kStats.keys))
            let tData = tj[0]["data"] as? [String: Any] ?? [:]
            #expect(tData["state"] as? Int == 2 && tData["vrid"] as? Int == 51 && tData["auth_data"] == nil, "\(tData)")
            let missing = Set((kj[0]["data"] as? [String: Any] ?? [:]).keys).subtracting(tData.keys).subtracting(["auth_data"])
            #expect(missing.isEmpty, "keys keepalived has and Tandem lacks: \(missing)")
        }
    }
}
