import ConfigParsing
import Conntrack
import TestSupport
import Testing
import IPAddressing

@Suite struct ConntrackdConfigTests {
    /// The two conntrackd.conf files of the seed how-to, cut from ../shared at run time.
    static func seedConfig(_ host: String) -> String {
        let text = Vectors.readText(SharedVectors.sharedDirectory + "/reference/seed-howto.txt")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("\(host) /etc/conntrackd/conntrackd.conf") }) else { return "" }
        var out: [Substring] = []
        var depth = 0
        var begun = false
        for line in lines[(start + 1)...] {
            if !begun && line.trimmingCharacters(in: .whitespaces).isEmpty { out.append(line); continue }
            if begun && depth == 0 && !line.hasPrefix(" ") && !line.hasPrefix("}") && !line.contains("{") && !line.isEmpty { break }
            begun = true
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
            out.append(line)
        }
        return out.joined(separator: "\n")
    }

    @Test(arguments: ["Primary fw-1", "Standby fw-2"])
    func seedConfigsLoadUnchanged(host: String) throws {
        let text = Self.seedConfig(host)
        #expect(text.contains("Sync {") && text.contains("General {"))
        let c = try ConntrackdConfigParser.parse(text, file: "\(host).conf")
        let sync = try #require(c.sync)
        #expect(sync.mode == .ftfw)
        #expect(sync.commitTimeout == 180 && sync.purgeTimeout == 5 && !sync.disableExternalCache)
        #expect(sync.channels.count == 1)
        let udp = sync.channels[0]
        #expect(udp.kind == .udp && udp.port == 3780 && udp.interface == "ens3" && udp.checksum)
        #expect(udp.sendBuffer == 1249280 && udp.receiveBuffer == 1249280)
        let (me, peer) = host.contains("fw-1") ? ("172.30.16.1", "172.30.16.2") : ("172.30.16.2", "172.30.16.1")
        #expect(udp.ipv4Address == IPAddress(me) && udp.ipv4Destination == IPAddress(peer))
        let g = c.general
        #expect(g.hashSize == 32768 && g.hashLimit == 131072)
        #expect(g.logFile == .file("/var/log/conntrackd.log"))
        #expect(g.syslogFacility == "daemon")
        #expect(g.netlinkOverrunResync == 5 && g.netlinkEventsReliable)
        #expect(g.pollSeconds == 5 && g.eventIterationLimit == 200)
        #expect(g.lockFile == "/var/lock/conntrack.lock" && g.unixPath == "/var/run/conntrackd.ctl")
        #expect(g.netlinkBufferSize == 2097152 && g.netlinkBufferSizeMaxGrowth == 8388608)
        #expect(g.systemd)
        let filter = try #require(g.filters.first)
        #expect(filter.source == .userspace)
        #expect(filter.protocolPolicy == .accept && filter.protocolNumbers == [6, 17, 1])
        #expect(filter.addressPolicy == .ignore && filter.addresses.count == 7)
        #expect(filter.addresses.first?.contains(IPAddress("127.0.0.1")!) == true)
        #expect(c.warnings.contains { $0.message.contains("Nice is deprecated") })
        #expect(c.warnings.contains { $0.message.contains("Backlog") })
    }

    /// Every conntrackd.conf the reference lab ran, and Debian's example files, load.
    @Test func referenceAndExampleConfigsLoad() throws {
        var files: [String] = []
        let base = SharedVectors.sharedDirectory + "/vectors/reference-output"
        for run in Shell.run(["ls", base]).lines {
            for f in ["fw1-conntrackd.conf", "fw2-conntrackd.conf"] { files.append("\(base)/\(run)/\(f)") }
        }
        for mode in ["ftfw", "notrack", "alarm"] { files.append("/usr/share/doc/conntrackd/examples/sync/\(mode)/conntrackd.conf") }
        files.append("/usr/share/doc/conntrackd/examples/stats/conntrackd.conf")
        var loaded = 0
        for f in files where !Vectors.readText(f).isEmpty {
            do {
                let c = try ConntrackdConfigParser.parse(file: f)
                loaded += 1
                if f.contains("/sync/") { #expect(c.sync != nil, "\(f)") }
                if f.contains("/stats/") { #expect(c.stats != nil && c.sync == nil, "\(f)") }
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(loaded >= 10)
    }

    @Test(arguments: [
        ("General {\n    Foo 1\n}\n", 2, 5, "Foo"),
        ("General {\n  Nice 0\n}\n", 2, 8, "0"),
        ("Sync {\n  Mode FTFW {\n    RefreshTime 5\n  }\n  UDP { Interface x }\n}\n", 3, 5, "RefreshTime"),
        ("General {\n  PollSecs 0\n}\n", 2, 12, "0"),
        ("General { HashSize x }", 1, 20, "x"),
        ("General { LockFile relative }", 1, 20, "relative"),
        ("Bogus { }", 1, 1, "Bogus"),
        ("Sync { UDP { Interface a } }\nStats { }", 2, 1, "Stats"),
        ("Sync { UDP { Interface a } Multicast { Interface b } }", 1, 28, "Multicast"),
        ("Sync { UDP { Port 1 Group 2 } }", 1, 21, "Group"),
        ("General {\n  UNIX {\n    Path /x\n", 3, 12, ""),
        ("General { Filter { State Accept { ESTABLISHED BOGUS } } }", 1, 47, "BOGUS"),
    ])
    func errorsNameLineColumnAndToken(text: String, line: Int, column: Int, token: String) {
        do {
            _ = try ConntrackdConfigParser.parse(text, file: "/etc/conntrackd/conntrackd.conf")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.location.file == "/etc/conntrackd/conntrackd.conf")
            #expect(error.location.line == line, "\(error)")
            #expect(error.location.column == column, "\(error)")
            #expect(error.token == token, "\(error)")
            #expect(error.description.hasPrefix("/etc/conntrackd/conntrackd.conf:\(line):\(column): error: "))
        }
    }

    @Test func tooManyChannels() {
        let text = "Sync { " + String(repeating: "UDP { Interface a } ", count: 5) + "}"
        #expect(throws: ConfigError.self) { try ConntrackdConfigParser.parse(text) }
    }

    @Test func modesOptionsAndDefaults() throws {
        let c = try ConntrackdConfigParser.parse("""
        Sync {
            Mode NOTRACK { DisableInternalCache on StartupResync yes }
            TCP Default { IPv6_address fd00::1 IPv6_Destination_Address fd00::2 Port 3781 Interface sync0 ErrorQueueLength 64 Checksum off }
            Options { TCPWindowTracking on ExpectationSync { ftp sip } }
        }
        General { Filter From Kernelspace { State Ignore { CLOSED TIME_WAIT for TCP } } NetlinkOverrunResync off }
        """)
        let sync = try #require(c.sync)
        #expect(sync.mode == .notrack && sync.disableInternalCache && sync.startupResync)
        #expect(sync.resendQueueSize == 131072 && sync.ackWindowSize == 300 && sync.purgeTimeout == 60)
        let tcp = sync.channels[0]
        #expect(tcp.kind == .tcp && tcp.isDefault && tcp.ipv6Destination == IPAddress("fd00::2") && !tcp.checksum && tcp.errorQueueLength == 64)
        #expect(sync.tcpWindowTracking && sync.expectationSync == .helpers(["ftp", "sip"]))
        #expect(c.general.filters.first?.source == .kernelspace)
        #expect(c.general.filters.first?.states == [.close, .timeWait])
        #expect(c.general.netlinkOverrunResync == nil)
        #expect(c.general.hashLimit == 262144)
        let stats = try ConntrackdConfigParser.parse("Stats { LogFile on }")
        #expect(stats.isStatisticsMode && stats.stats?.logFile == .file("/var/log/conntrackd-stats.log"))
    }

    @Test func badAddressIsAWarningLikeConntrackd() throws {
        let c = try ConntrackdConfigParser.parse("Sync { UDP { IPv4_address 300.1.1.1 Interface a } }")
        #expect(c.sync?.channels.first?.ipv4Address == nil)
        #expect(c.warnings.contains { $0.message == "300.1.1.1 is not a valid IPv4 address" && $0.location.column == 27 })
    }

    @Test func missingFileIsTyped() {
        #expect(throws: ConfigError.self) { try ConntrackdConfigParser.parse(file: "/nonexistent/conntrackd.conf") }
    }
}
