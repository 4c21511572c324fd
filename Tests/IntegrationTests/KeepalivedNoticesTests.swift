import Foundation
import TestSupport
import Testing

/// global_defs' vrrp_notify_priority_changes, fifo_write_vrrp_states_on_reload and
/// log_unknown_vrids beside keepalived 2.2.7: the same run writes the same notify FIFO
/// lines (a track_file raising a master's priority, then a SIGHUP reload with a sync group
/// and its member in FAULT), and the same log line
/// for an advert of a VRID no instance has. The control of each is the run without the
/// option, where neither tool writes those lines.
@Suite(.serialized, .enabled(if: Shell.isRoot && FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived"), "needs root and keepalived"))
struct KeepalivedNoticesTests {
    /// The SIGUSR1 dump's lines for the three options.
    static func dumpLines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix(" FIFO write vrrp states") || $0.hasPrefix(" VRRP notify priority changes") || $0 == " log_unknown_vrids" }
    }

    /// The FIFO lines after the first MASTER line and before the STOP lines, then the
    /// dump's lines for the options.
    /// `instanceOff`: VI_1 says `notify_priority_changes false` over the global option.
    func fifoLines(_ kind: VRRPRouter.Kind, options: Bool, instanceOff: Bool = false) throws -> [String] {
        let pair = try SwitchedPair(tag: "fn\(kind.rawValue.prefix(1))\(options ? "o" : "p")\(instanceOff ? "i" : "")", prefix: "tkd")
        defer { pair.remove() }
        let dir = NSTemporaryDirectory() + "tkd-fifo-\(getpid())-\(kind)-\(options)-\(instanceOff)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (script, out) = try KeepalivedNotifyFifoTests.fifoReader(in: dir)
        try "0\n".write(toFile: dir + "/up", atomically: true, encoding: .utf8)
        try "1\n".write(toFile: dir + "/down", atomically: true, encoding: .utf8)
        let ifname = pair.interface("a", 0)
        let config = """
        global_defs {
          router_id tkd-a
          notify_fifo \(dir)/fifo
          notify_fifo_script \(script)
        \(options ? "  vrrp_notify_priority_changes\n  fifo_write_vrrp_states_on_reload\n" : "")}
        vrrp_track_file up {
          file \(dir)/up
          weight 1
        }
        vrrp_track_file down {
          file \(dir)/down
          weight 0
        }
        vrrp_sync_group G1 {
          group {
            VI_2
          }
        }
        vrrp_instance VI_1 {
          state BACKUP
          interface \(ifname)
          virtual_router_id 51
          priority 100
          advert_int 0.2
          version 3
          track_file {
            up
          }
        \(instanceOff ? "  notify_priority_changes false\n" : "")
          virtual_ipaddress {
            10.77.0.100/24
          }
        }
        vrrp_instance VI_2 {
          state BACKUP
          interface \(ifname)
          virtual_router_id 52
          priority 90
          advert_int 0.2
          version 3
          track_file {
            down
          }
          virtual_ipaddress {
            10.77.0.101/24
          }
        }

        """
        let router = try VRRPRouter(kind, in: pair.a, config: config)
        defer { router.remove() }
        let read = { Vectors.readText(out) }
        #expect(eventually(within: 10) { read().contains("INSTANCE \"VI_1\" MASTER 100") && read().contains("INSTANCE \"VI_2\" FAULT") }, "\(router.log)")
        try "10\n".write(toFile: dir + "/up", atomically: false, encoding: .utf8)
        // The tracked file is read on change (inotify): wait for the new priority to be in use.
        #expect(eventually(within: 5) { router.data().contains("Effective priority = 110") }, "\(router.log)")
        usleep(300_000)
        router.signal(SIGHUP)
        _ = eventually(within: 5) { router.log.contains("Reload") || router.log.contains("reload") }
        usleep(1_000_000)
        let dump = Self.dumpLines(router.data())
        router.stop()
        _ = eventually(within: 3) { read().contains("GROUP \"G1\" STOP 0") }
        let all = read().split(separator: "\n").map(String.init)
        guard let first = all.firstIndex(of: "INSTANCE \"VI_1\" MASTER 100") else { return all + dump }
        return Array(all[(first + 1)...].prefix { !$0.contains(" STOP ") }) + dump
    }

    @Test func priorityChangesAndReloadStatesGoToTheFifo() throws {
        let ours = try fifoLines(.tandem, options: true), theirs = try fifoLines(.keepalived, options: true)
        #expect(theirs.contains("INSTANCE \"VI_1\" MASTER_PRIORITY 110") && theirs.contains(" VRRP notify priority changes = true"), "keepalived: \(theirs)")
        #expect(ours == theirs, "tandem:\n\(ours.joined(separator: "\n"))\nkeepalived:\n\(theirs.joined(separator: "\n"))")
        // An instance's own `notify_priority_changes false` wins over the global option.
        let off = try fifoLines(.tandem, options: true, instanceOff: true), theirOff = try fifoLines(.keepalived, options: true, instanceOff: true)
        #expect(!theirOff.contains { $0.contains("PRIORITY ") } && theirOff.contains("GROUP \"G1\" FAULT 0") && off == theirOff,
                "tandem:\n\(off.joined(separator: "\n"))\nkeepalived:\n\(theirOff.joined(separator: "\n"))")
        // The control: without the options neither writes a priority or reload line.
        let plain = try fifoLines(.tandem, options: false), theirPlain = try fifoLines(.keepalived, options: false)
        #expect(!theirPlain.contains { $0.contains("PRIORITY") } && theirPlain.contains(" VRRP notify priority changes = false") && plain == theirPlain,
                "tandem:\n\(plain.joined(separator: "\n"))\nkeepalived:\n\(theirPlain.joined(separator: "\n"))")
    }

    /// A keepalived on side b advertises VRID 52; the router on side a has only VRID 51.
    func unknownVRIDLine(_ kind: VRRPRouter.Kind, option: Bool) throws -> String? {
        let pair = try SwitchedPair(tag: "uv\(kind.rawValue.prefix(1))\(option ? "o" : "p")", prefix: "tkd")
        defer { pair.remove() }
        let c = VRRPTestConfig(version: 3, interval: 0.2)
        let a = try VRRPRouter(kind, in: pair.a, config: c.text(pair, side: "a", instances: [.init(priority: 100)],
                                                                top: option ? ["global_defs {\n  log_unknown_vrids\n}"] : []))
        defer { a.remove() }
        let b = try VRRPRouter(.keepalived, in: pair.b, config: c.text(pair, side: "b", instances: [.init(priority: 100, vrid: 52, vips: ["10.77.0.152"])]))
        defer { b.remove() }
        #expect(eventually(within: 10) { pair.holds("b", "10.77.0.152") && pair.holds("a", VRRPTestConfig.vip(0)) }, "\(a.log)\n\(b.log)")
        _ = eventually(within: 3) { a.log.contains("Unknown VRID") }
        let line = a.log.split(separator: "\n").first { $0.contains("Unknown VRID") }
        #expect(Self.dumpLines(a.data()).contains(" log_unknown_vrids") == option, "\(kind)")
        return line.map { String($0[$0.range(of: "Unknown VRID")!.lowerBound...]).replacingOccurrences(of: pair.interface("a", 0), with: "A0") }
    }

    @Test func unknownVRIDsAreLoggedAsKeepalivedLogsThem() throws {
        let ours = try unknownVRIDLine(.tandem, option: true), theirs = try unknownVRIDLine(.keepalived, option: true)
        #expect(theirs == "Unknown VRID(52) received on interface(A0). ignoring...", "\(String(describing: theirs))")
        #expect(ours == theirs, "tandem \(String(describing: ours))")
        // The control: without the option, neither logs it.
        let plain = try unknownVRIDLine(.tandem, option: false), theirPlain = try unknownVRIDLine(.keepalived, option: false)
        #expect(plain == nil && theirPlain == nil, "tandem \(String(describing: plain)) keepalived \(String(describing: theirPlain))")
    }
}
