import Foundation
import TestSupport
import Testing

/// The seed's own keepalived.conf pair, only its interface names and addresses moved onto a
/// namespace pair, runs under `tandem keepalived` beside keepalived 2.2.7: nothing in it is
/// refused, Tandem (fw-1, MASTER) takes both addresses of the sync group, keepalived (fw-2)
/// accepts its adverts, and takes both over when Tandem stops.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedSeedConfigTests {
    static func seed(_ marker: String, until end: String) -> String {
        let text = (try? String(contentsOfFile: SharedVectors.sharedDirectory + "/reference/seed-howto.txt", encoding: .utf8)) ?? ""
        guard let a = text.range(of: marker), let b = text.range(of: end, range: a.upperBound..<text.endIndex) else { return "" }
        return String(text[a.upperBound..<b.lowerBound])
    }

    /// The seed's file with its links and addresses replaced by the pair's, nothing else.
    static func moved(_ text: String, _ pair: SwitchedPair, side: String) -> String {
        text.replacingOccurrences(of: "ens4", with: pair.interface(side, 0))
            .replacingOccurrences(of: "ens2", with: pair.interface(side, 1))
            .replacingOccurrences(of: "192.168.255.250", with: "\(pair.network).1.250")
            .replacingOccurrences(of: "192.168.255.11", with: "\(pair.network).1.1")
            .replacingOccurrences(of: "192.168.255.22", with: "\(pair.network).1.2")
            .replacingOccurrences(of: "10.0.0.", with: "\(pair.network).0.")
    }

    @Test func theSeedsFilesRunUnchanged() throws {
        let fw1 = Self.seed("Primary fw-1 keepalived configuration file.", until: "Standby fw-2 Keepalived configuration file.")
        let fw2 = Self.seed("Standby fw-2 Keepalived configuration file.", until: "Ofcourse you need")
        try #require(fw1.contains("vrrp_sync_group G1") && fw2.contains("vrrp_sync_group G1"))
        let pair = try SwitchedPair(tag: "seed", segments: 2, prefix: "tdu", network: "10.234")
        defer { pair.remove() }
        let vips = ["\(pair.network).0.3", "\(pair.network).1.250"]
        // The control: the same file with one refused keyword does not start at all.
        let dir = NSTemporaryDirectory() + "tdu-seed-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.moved(fw1, pair, side: "a").replacingOccurrences(of: "    nopreempt\n", with: "    nopreempt\n    use_ipvlan\n")
            .write(toFile: dir + "/refused.conf", atomically: true, encoding: .utf8)
        let refused = pair.a.tandem(["keepalived", "-n", "-l", "-f", dir + "/refused.conf"])
        #expect(refused.status == 4 && refused.stderr.contains("`use_ipvlan' in vrrp_instance is not supported by tandem"), "\(refused.stderr)")
        #expect(vips.allSatisfy { !pair.holds("a", $0) })
        let tandem = try VRRPRouter(.tandem, in: pair.a, config: Self.moved(fw1, pair, side: "a"))
        defer { tandem.remove() }
        let keepalived = try VRRPRouter(.keepalived, in: pair.b, config: Self.moved(fw2, pair, side: "b"))
        defer { keepalived.remove() }
        #expect(eventually(within: 15) { vips.allSatisfy { pair.holds("a", $0) && !pair.holds("b", $0) } }, "\(tandem.log)\n\(keepalived.log)")
        usleep(2_500_000)
        #expect(vips.allSatisfy { pair.holds("a", $0) && !pair.holds("b", $0) }, "\(tandem.log)\n\(keepalived.log)")
        #expect(!tandem.log.contains("not supported"), "\(tandem.log)")
        let heard = keepalived.statistics()
        #expect((heard.value("Advertisements/Received", instance: "INT") ?? 0) >= 2, "\(heard)")
        #expect(heard.value("Authentication Errors/Failure", instance: "INT") == 0, "\(heard)")
        // fw-1 stops (the seed's `systemctl stop keepalived`): fw-2 takes both addresses.
        tandem.stop()
        #expect(eventually(within: 10) { vips.allSatisfy { pair.holds("b", $0) } }, "\(tandem.log)\n\(keepalived.log)")
    }
}
