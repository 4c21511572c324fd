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
        #expect(g.scheduler == nil && g.eventIterationLimit == 200)
        #expect(c.unsupported.isEmpty)
    }

    /// Every conntrackd.conf the reference lab ran, and Debian's example sync files, load;
    /// Debian's statistics-mode example is refused at its `Stats' line, saying why.
    @Test func referenceAndExampleConfigsLoad() throws {
        var files: [String] = []
        let base = SharedVectors.sharedDirectory + "/vectors/reference-output"
        for run in Shell.run(["ls", base]).lines {
            for f in ["fw1-conntrackd.conf", "fw2-conntrackd.conf"] { files.append("\(base)/\(run)/\(f)") }
        }
        for mode in ["ftfw", "notrack", "alarm"] { files.append("/usr/share/doc/conntrackd/examples/sync/\(mode)/conntrackd.conf") }
        var loaded = 0
        for f in files where !Vectors.readText(f).isEmpty {
            do {
                let c = try ConntrackdConfigParser.parse(file: f)
                loaded += 1
                #expect(c.sync != nil, "\(f)")
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(loaded >= 10)
        let stats = "/usr/share/doc/conntrackd/examples/stats/conntrackd.conf"
        let statsText = Vectors.readText(stats)
        #expect(!statsText.isEmpty, "Debian's conntrackd examples are installed")
        let statsLine = statsText.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("Stats") }.map { $0 + 1 }
        // A client (`-s`, `tandem status`) reads it: only the socket's path matters there.
        let statsConfig = try ConntrackdConfigParser.parse(file: stats)
        #expect(statsConfig.unsupported.count == 1 && statsConfig.general.unixPath != nil)
        do {
            _ = try ConntrackdConfigParser.check(file: stats)
            Issue.record("statistics mode accepted")
        } catch {
            #expect(error.location.line == statsLine && error.message.contains("not supported"), "\(error)")
        }
    }

    static let link = "UDP { IPv4_address 10.0.0.1 IPv4_Destination_Address 10.0.0.2 Port 3780 Interface a }"

    @Test(arguments: [
        ("General {\n    Foo 1\n}\n", 2, 5, "Foo"),
        ("General {\n  Nice 0\n}\n", 2, 8, "0"),
        ("Sync {\n  Mode FTFW {\n    RefreshTime 5\n  }\n  UDP { Interface x }\n}\n", 3, 5, "RefreshTime"),
        ("General {\n  PollSecs 0\n}\n", 2, 12, "0"),
        ("General { HashSize x }", 1, 20, "x"),
        ("General { LockFile relative }", 1, 20, "relative"),
        ("Bogus { }", 1, 1, "Bogus"),
        ("Sync { \(ConntrackdConfigTests.link) }\nStats { }", 2, 1, "Stats"),
        ("Sync { \(ConntrackdConfigTests.link)\nMulticast { Interface b } }", 2, 1, "Multicast"),
        ("Sync { UDP { Port 1 Group 2 } }", 1, 21, "Group"),
        ("General {\n  UNIX {\n    Path /x\n", 2, 3, "UNIX"),
        ("General { Filter { State Accept { ESTABLISHED BOGUS } } }", 1, 47, "BOGUS"),
        ("Sync {\n  UDP { IPv4_address 10.0.0.1 IPv4_Destination_Address 10.0.0.2 Interface a }\n}", 2, 3, "UDP"),
        ("Sync {\n  UDP {\n    Port 99999\n  }\n}", 3, 10, "99999"),
        ("Sync { \(ConntrackdConfigTests.link) }\nSync { \(ConntrackdConfigTests.link) }", 2, 1, "Sync"),
        ("General { Filter { Protocol Accept { TCPX } } }", 1, 38, "TCPX"),
        ("General { Filter { Address Ignore { IPv4_address 10.0.0.300 } } }", 1, 50, "10.0.0.300"),
        ("General { Filter { Address Ignore { IPv4_address 10.0.0.0/33 } } }", 1, 50, "10.0.0.0/33"),
        ("General { Filter { State Accept { ESTABLISHED } } }", 1, 35, "ESTABLISHED"),
        ("Sync {\n  Mode FTFW { }\n", 1, 1, "Sync"),
        ("Helper {\n}", 1, 1, "Helper"),
        ("General { hashsize 5 }", 1, 11, "hashsize"),
        ("Sync { \(ConntrackdConfigTests.link) }\nGeneral { Scheduler { Type RR } }", 2, 11, "Scheduler"),
        ("Sync { \(ConntrackdConfigTests.link) }\nGeneral { Scheduler { Type RR Priority 100 } }", 2, 40, "100"),
        ("Sync { \(ConntrackdConfigTests.link) }\nGeneral { Scheduler { Type BATCH Priority 10 } }", 2, 28, "BATCH"),
        ("Sync { Multicast { IPv6_address ff02::1 Group 3780 } }", 1, 8, "Multicast"),
        ("Sync { Multicast { IPv6_address fd00::1 Group 3780 Interface a } }", 1, 8, "Multicast"),
        ("Sync { Multicast { IPv6_address ff02::1 IPv4_interface 10.0.0.1 } }", 1, 41, "IPv4_interface"),
        ("Sync { TCP { IPv6_address fd00::1 } }", 1, 8, "TCP"),
        ("Sync {\n  UDP { IPv6_address fd00::1 IPv6_Destination_Address fd00::2 }\n}", 2, 3, "UDP"),
        ("Sync { UDP { IPv4_address 10.0.0.1 IPv6_Destination_Address fd00::2 } }", 1, 36, "IPv6_Destination_Address"),
    ])
    func errorsNameLineColumnAndToken(text: String, line: Int, column: Int, token: String) {
        do {
            _ = try ConntrackdConfigParser.check(text, file: "/etc/conntrackd/conntrackd.conf")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.location.file == "/etc/conntrackd/conntrackd.conf")
            #expect(error.location.line == line, "\(error)")
            #expect(error.location.column == column, "\(error)")
            #expect(error.token == token, "\(error)")
            #expect(error.description.hasPrefix("/etc/conntrackd/conntrackd.conf:\(line):\(column): error: "))
        }
    }

    @Test func tooManyChannels() throws {
        let five = "Sync { " + String(repeating: Self.link + " ", count: 5) + "}"
        #expect(throws: ConfigError.self) { try ConntrackdConfigParser.parse(five) }
        // The control: four links load.
        let four = try ConntrackdConfigParser.parse("Sync { " + String(repeating: Self.link + " ", count: 4) + "}")
        #expect(four.sync?.channels.count == 4)
    }

    @Test func modesOptionsAndDefaults() throws {
        let c = try ConntrackdConfigParser.parse("""
        Sync {
            Mode NOTRACK { DisableInternalCache on StartupResync yes }
            TCP Default { IPv4_address 10.0.0.1 IPv4_Destination_Address 10.0.0.2 Port 3781 Interface sync0 ErrorQueueLength 64 Checksum off }
            Options { TCPWindowTracking on ExpectationSync { ftp sip } }
        }
        General { Filter From Kernelspace { State Ignore { CLOSED TIME_WAIT for TCP } } NetlinkOverrunResync off }
        """)
        let sync = try #require(c.sync)
        #expect(sync.mode == .notrack && sync.disableInternalCache && sync.startupResync)
        #expect(sync.resendQueueSize == 131072 && sync.ackWindowSize == 300 && sync.purgeTimeout == 60)
        let tcp = sync.channels[0]
        #expect(tcp.kind == .tcp && tcp.isDefault && tcp.ipv4Destination == IPAddress("10.0.0.2") && !tcp.checksum && tcp.errorQueueLength == 64)
        #expect(c.warnings.contains { $0.message.contains("`Checksum off' has no effect on a TCP link") })
        #expect(sync.tcpWindowTracking && sync.expectationSync == .helpers(["ftp", "sip"]))
        #expect(c.general.filters.first?.source == .kernelspace)
        #expect(c.general.filters.first?.states == [.close, .timeWait])
        #expect(c.general.netlinkOverrunResync == nil)
        #expect(c.general.hashLimit == 262144)
        #expect(c.general.scheduler == nil)
    }

    /// conntrackd's lexer matches on/off/yes/no and the mode names in any case (and
    /// strcasecmp's the scheduler type); its keywords are case-sensitive.
    @Test func valuesAreCaseInsensitiveKeywordsAreNot() throws {
        let c = try ConntrackdConfigParser.parse("""
        Sync {
            Mode ftfw { DisableExternalCache ON StartupResync yEs }
            UDP { IPv4_address 10.0.0.1 IPv4_Destination_Address 10.0.0.2 Port 3780 Checksum oFF }
        }
        General { Systemd No Syslog On Scheduler { Type fifo Priority 10 } }
        """)
        #expect(c.sync?.mode == .ftfw && c.sync?.disableExternalCache == true && c.sync?.startupResync == true)
        #expect(c.sync?.channels.first?.checksum == false)
        #expect(!c.general.systemd && c.general.syslogFacility == "daemon")
        #expect(c.general.scheduler == .init(policy: .fifo, priority: 10))
        for mode in ["NoTrack", "ALARM", "alarm"] {
            #expect(try ConntrackdConfigParser.parse("Sync { Mode \(mode) { } \(Self.link) }").sync?.mode != .ftfw)
        }
        // The control: the same words as keywords in the wrong case are refused, with a hint.
        do {
            _ = try ConntrackdConfigParser.parse("Sync { mode FTFW { } \(Self.link) }")
            Issue.record("`mode' accepted")
        } catch {
            #expect(error.token == "mode" && error.message.contains("case-sensitive: `Mode'"), "\(error)")
        }
    }

    /// conntrackd reads 0 as "not set" for its sizes and timers and puts its default in.
    @Test func zeroMeansTheDefault() throws {
        let c = try ConntrackdConfigParser.parse("""
        Sync { Mode FTFW { ResendQueueSize 0 ACKWindowSize 0 PurgeTimeout 0 CommitTimeout 0 } \(Self.link) }
        General { HashSize 0 HashLimit 0 EventIterationLimit 0 NetlinkOverrunResync 0 }
        """)
        let y = try #require(c.sync)
        #expect(y.resendQueueSize == 131072 && y.ackWindowSize == 300 && y.purgeTimeout == 60 && y.commitTimeout == 0)
        #expect(c.general.hashSize == 65536 && c.general.hashLimit == 262144 && c.general.eventIterationLimit == 100)
        #expect(c.general.netlinkOverrunResync == 30)
        // The control: values other than 0 are kept as written.
        let d = try ConntrackdConfigParser.parse("Sync { Mode FTFW { PurgeTimeout 7 } \(Self.link) }\nGeneral { HashSize 16 EventIterationLimit 3 }")
        #expect(d.sync?.purgeTimeout == 7 && d.general.hashSize == 16 && d.general.eventIterationLimit == 3)
    }

    /// Protocol names are looked up in /etc/protocols as conntrackd does (`ICMP' is an
    /// alias there, `icmp' the name); a number or an unknown name is refused.
    @Test func protocolNamesFromEtcProtocols() throws {
        let c = try ConntrackdConfigParser.parse("Sync { \(Self.link) }\nGeneral { Filter { Protocol Accept { TCP udp ICMP sctp DCCP IPv6-ICMP gre } } }")
        #expect(c.general.filters.first?.protocolNumbers == [6, 17, 1, 132, 33, 58, 47])
        for bad in ["6", "TCPX", "Tcp"] {
            #expect(throws: ConfigError.self, "\(bad)") {
                try ConntrackdConfigParser.parse("Sync { \(Self.link) }\nGeneral { Filter { Protocol Accept { \(bad) } } }")
            }
        }
    }

    @Test func badAddressesAreRefusedNotSkipped() {
        for bad in ["IPv4_address 300.1.1.1", "IPv4_Destination_Address 10.0.0", "IPv4_address fd00::1"] {
            do {
                _ = try ConntrackdConfigParser.parse("Sync {\n  UDP {\n    \(bad)\n  }\n}")
                Issue.record("accepted: \(bad)")
            } catch {
                #expect(error.location.line == 3 && error.location.column > 5, "\(error)")
            }
        }
    }

    @Test func missingFileIsTyped() {
        #expect(throws: ConfigError.self) { try ConntrackdConfigParser.parse(file: "/nonexistent/conntrackd.conf") }
    }
}
