import Foundation
import TestSupport
import Testing

/// Tandem's tracking against a real keepalived peer: vrrp_script weights, track_interface
/// without a weight (FAULT and recovery through BACKUP) and with one (priority only).
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedTrackingTests {
    static let c = VRRPTestConfig(version: 3, interval: 0.2)
    static let vip = VRRPTestConfig.vip(0)

    func run(tandem: VRRPTestConfig.Instance, keepalivedPriority: Int, top: [String] = [], tag: String,
             setup: (SwitchedPair) -> Void = { _ in },
             _ body: (SwitchedPair, VRRPRouter, VRRPRouter) throws -> Void) throws {
        let pair = try SwitchedPair(tag: tag)
        defer { pair.remove() }
        setup(pair)
        let t = try VRRPRouter(.tandem, in: pair.a, config: Self.c.text(pair, side: "a", instances: [tandem], top: top))
        defer { t.remove() }
        let k = try VRRPRouter(.keepalived, in: pair.b, config: Self.c.text(pair, side: "b", instances: [.init(priority: keepalivedPriority)]))
        defer { k.remove() }
        try body(pair, t, k)
    }

    @Test func scriptWeightDecidesTheMaster() throws {
        let flag = NSTemporaryDirectory() + "tdt-track-\(getpid())"
        FileManager.default.createFile(atPath: flag, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: flag) }
        let script = ["vrrp_script chk_flag {", "  script \"/usr/bin/test -f \(flag)\"", "  interval 0.2", "  weight 60",
                      "  rise 2", "  fall 2", "}"]
        try run(tandem: .init(priority: 100, extra: ["track_script {", "  chk_flag", "}"]), keepalivedPriority: 130, top: script, tag: "ts") {
            pair, t, k in
            // 100 + 60 beats 130.
            #expect(eventually(within: 10) { pair.holds("a", Self.vip) && !pair.holds("b", Self.vip) }, "\(t.log)\n\(k.log)")
            try FileManager.default.removeItem(atPath: flag)
            #expect(eventually(within: 10) { pair.holds("b", Self.vip) && !pair.holds("a", Self.vip) }, "\(t.log)\n\(k.log)")
            #expect(t.data().contains("Effective priority = 100"), "\(t.data())")
            FileManager.default.createFile(atPath: flag, contents: Data())
            #expect(eventually(within: 10) { pair.holds("a", Self.vip) && !pair.holds("b", Self.vip) }, "\(t.log)\n\(k.log)")
            #expect(t.data().contains("Effective priority = 160"))
        }
    }

    /// A link of its own to track (this kernel has no dummy driver: a veth pair inside a).
    static func dummy(_ pair: SwitchedPair) {
        pair.a.run(["sh", "-c", "ip link add tdtdum0 type veth peer name tdtdum1 && ip link set tdtdum1 up && ip link set tdtdum0 up"])
    }

    @Test func trackedInterfaceDownIsAFaultAndUpRecoversThroughBackup() throws {
        try run(tandem: .init(priority: 150, extra: ["track_interface {", "  tdtdum0", "}"]), keepalivedPriority: 100, tag: "ti",
                setup: Self.dummy) { pair, t, k in
            #expect(eventually(within: 10) { pair.holds("a", Self.vip) && !pair.holds("b", Self.vip) }, "\(t.log)\n\(k.log)")
            pair.a.run(["ip", "link", "set", "tdtdum0", "down"])
            #expect(eventually(within: 10) { pair.holds("b", Self.vip) && !pair.holds("a", Self.vip) }, "\(t.log)\n\(k.log)")
            #expect(t.data().contains("State = FAULT"))
            pair.a.run(["ip", "link", "set", "tdtdum0", "up"])
            #expect(eventually(within: 10) { pair.holds("a", Self.vip) && !pair.holds("b", Self.vip) }, "\(t.log)\n\(k.log)")
            let log = t.log
            let fault = log.range(of: "Entering FAULT STATE")
            let backup = fault.flatMap { log.range(of: "Entering BACKUP STATE", range: $0.upperBound..<log.endIndex) }
            let master = backup.flatMap { log.range(of: "Entering MASTER STATE", range: $0.upperBound..<log.endIndex) }
            #expect(master != nil, "FAULT → BACKUP → MASTER expected\n\(log)")
        }
    }

    @Test func weightedInterfaceChangesPriorityNotState() throws {
        try run(tandem: .init(priority: 150, extra: ["track_interface {", "  tdtdum0 weight -100", "}"]), keepalivedPriority: 100, tag: "tw",
                setup: Self.dummy) { pair, t, k in
            #expect(eventually(within: 10) { pair.holds("a", Self.vip) && !pair.holds("b", Self.vip) }, "\(t.log)\n\(k.log)")
            pair.a.run(["ip", "link", "set", "tdtdum0", "down"])
            #expect(eventually(within: 10) { pair.holds("b", Self.vip) && !pair.holds("a", Self.vip) }, "\(t.log)\n\(k.log)")
            let data = t.data()
            #expect(data.contains("State = BACKUP") && data.contains("Effective priority = 50"), "\(data)")
            #expect(!t.log.contains("FAULT"), "\(t.log)")
            pair.a.run(["ip", "link", "set", "tdtdum0", "up"])
            #expect(eventually(within: 10) { pair.holds("a", Self.vip) && !pair.holds("b", Self.vip) }, "\(t.log)\n\(k.log)")
        }
    }
}
