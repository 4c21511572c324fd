import Logging
import ConfigParsing
import Daemon
import Foundation
import Netlink
import TestSupport
import Testing
import Timekeeping

/// `tandem run`'s sync-health demotion and keepalived's tracking weights add up: the
/// advertised priority is base + weights − demotion, and lifting either leaves the other.
@Suite(.serialized, .enabled(if: Shell.isRoot, "needs root"))
struct KeepalivedDemotionTests {
    @Test func demotionComposesWithTrackingWeights() throws {
        let pair = try SwitchedPair(tag: "dm")
        defer { pair.remove() }
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let text = c.text(pair, side: "a", instances: [.init(priority: 100, extra: ["track_script {", "  always_ok", "}"])],
                          top: ["vrrp_script always_ok {", "  script /bin/true", "  interval 0.1", "  weight 30", "}"])
        let config = try KeepalivedConfigParser.parse(text)
        let seen: [UInt8] = try NetworkNamespace.run(named: pair.a.name) {
            let daemon = try KeepalivedDaemon(configuration: config, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, shouldStop: { false })
            daemon.start()
            defer { daemon.finish() }
            // Bounded turns of the loop, long enough for the script to run and be reaped.
            func turn(until done: () -> Bool) {
                for _ in 0..<300 where !done() {
                    daemon.service(now: .now())
                    usleep(10_000)
                }
            }
            turn { daemon.priorities["VI_1"] == 130 }
            let tracked = daemon.priorities["VI_1"] ?? 0
            daemon.demote(by: 50)
            let demoted = daemon.priorities["VI_1"] ?? 0
            daemon.demote(by: 0)
            return [tracked, demoted, daemon.priorities["VI_1"] ?? 0]
        }
        #expect(seen == [130, 80, 130])
    }
}
