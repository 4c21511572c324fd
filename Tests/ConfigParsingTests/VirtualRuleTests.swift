import ConfigParsing
import IPAddressing
import Testing

/// `virtual_rules` / `static_rules` lines as keepalived 2.2.7 reads them, and the blocks
/// around them: static_ipaddress, static_routes, virtual_ipaddress_excluded, and the VIPs
/// an advert has no room for.
@Suite struct VirtualRuleTests {
    @Test func selectorsAndActions() throws {
        let r = try VirtualRule(["from", "10.1.0.0/16", "to", "192.168.5.0/24", "iif", "eth1", "oif", "eth2", "fwmark", "0x10/0xff",
                                 "tos", "0x10", "lookup", "1000", "priority", "201"])
        #expect(r.from == .init(address: IPAddress("10.1.0.0"), length: 16) && r.to?.length == 24)
        #expect(r.inputInterface == "eth1" && r.outputInterface == "eth2" && r.fwmark == 16 && r.fwmask == 255 && r.tos == 16)
        #expect(r.action == .table(1000) && r.priority == 201 && r.tracked && r.family == AddressFamily.inet)
        let b = try VirtualRule(["not", "from", "all", "type", "blackhole", "order", "5", "no_track"])
        #expect(b.invert && b.from?.address == nil && b.action == .blackhole && !b.tracked && b.priority == 5)
        #expect(try VirtualRule(["to", "2001:db8::/32", "table", "main", "preference", "9"]).family == AddressFamily.inet6)
        #expect(try VirtualRule(["from", "10.0.0.0/8", "goto", "300", "priority", "200"]).action == .goto(300))
        #expect(try VirtualRule(["to", "10.0.0.0/8", "nop"]).action == .nop)
        #expect(try VirtualRule(["to", "10.0.0.0/8", "prohibit"]).priority == nil)
    }

    /// What keepalived reports and leaves out while keeping the rule: a single port (it
    /// reads START-END only), an unknown ipproto, a protocol on a tracked rule.
    @Test func reportedButKept() throws {
        let r = try VirtualRule(["to", "10.0.0.0/8", "dport", "80", "sport", "1-2", "ipproto", "nosuchproto", "protocol", "99", "table", "7"])
        #expect(r.destinationPorts == nil && r.sourcePorts == 1...2 && r.ipProtocol == nil && r.protocolNumber == nil)
        #expect(r.problems.map(\.message) == ["invalid dport range 80", "Invalid ipproto nosuchproto",
                                              "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol"])
        let control = try VirtualRule(["to", "10.0.0.0/8", "dport", "80-80", "ipproto", "udp", "protocol", "99", "no_track", "table", "7"])
        #expect(control.problems.isEmpty && control.destinationPorts == 80...80 && control.ipProtocol == 17 && control.protocolNumber == 99)
        #expect(throws: VirtualRule.ParseError.self) { try VirtualRule(["to", "10.0.0.0/8", "suppress_prefixlength", "8", "blackhole"]) }
        #expect(throws: VirtualRule.ParseError.self) { try VirtualRule(["to", "10.0.0.0/8", "uidrange", "5", "table", "7"]) }
    }

    /// keepalived 2.2.7 steps over the word after `inet` / `inet6` (`inet6 from X` is an
    /// unknown option X there, and `keepalived -t` says so); Tandem judges it the same.
    @Test func inetSwallowsTheNextWordAsInKeepalived() throws {
        #expect(throws: VirtualRule.ParseError.self) { try VirtualRule(["inet6", "from", "2001:db8::/32", "table", "7"]) }
        #expect(try VirtualRule(["inet6", "x", "from", "2001:db8::/32", "table", "7"]).family == AddressFamily.inet6)
    }

    @Test(arguments: [["from", "10.0.0.0/8"], ["from", "10.0.0.0/8", "table", "0"], ["from", "nope", "table", "1"],
                      ["from", "10.0.0.0/8", "to", "2001:db8::/32", "table", "1"], ["table", "1", "blackhole"],
                      ["from", "10.0.0.0/8", "goto", "30"], ["goto", "30", "priority", "40"], ["table", "1", "frobnicate"],
                      ["table", "1", "priority"], ["table", "1", "fwmark", "x"], ["table", "mytable"]])
    func badLinesAreTypedErrors(words: [String]) {
        #expect(throws: VirtualRule.ParseError.self) { try VirtualRule(words) }
    }

    @Test func rulesInTheFileGetPreferencesAndLocations() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_instance V {
            interface eth0
            virtual_router_id 9
            virtual_rules {
                from 10.1.0.0/16 table 100
                to 10.2.0.0/16 table 101 priority 7
                from 10.3.0.0/16 table 102 realms 80
                from 10.4.0.0/16 tabel 103
            }
        }
        static_rules {
            from 10.5.0.0/16 table 104
            to 2001:db8::/32 table 105
        }
        """, file: "k.conf")
        // Without a preference: 16384 down, per family, in file order, each reported as keepalived does.
        #expect(c.instances[0].virtualRules.map(\.priority) == [16384, 7])
        #expect(c.staticRules.map(\.priority) == [16383, 16384])
        #expect(c.toleratedErrors.map(\.location.line) == [5, 12, 13])
        #expect(c.toleratedErrors[0].message.contains("Rule has no preference specified - setting to 16384"))
        #expect(c.unsupported.map(\.description) == ["k.conf:7:36: error: virtual_rules rule option `realms' is not supported by tandem (at `realms')"])
        #expect(c.errors.map(\.description) == ["k.conf:8:26: error: Unknown rule option tabel (at `tabel')"])
    }

    @Test func staticBlocks() throws {
        let c = try KeepalivedConfigParser.parse("""
        static_ipaddress {
            192.168.200.17/24 dev eth1 label eth1:st
            192.168.200.18/24
        }
        static_routes {
            10.60.0.0/24 via 192.168.200.254 dev eth1
            10.61.0.0/33 dev eth1
        }
        """, file: "k.conf")
        #expect(c.staticAddresses.map(\.device) == ["eth1", "eth0"])
        #expect(c.staticAddresses[0].label == "eth1:st" && c.staticAddresses[1].prefix == 24)
        #expect(c.staticRoutes.count == 1 && c.staticRoutes[0].gateway == IPAddress("192.168.200.254"))
        #expect(c.errors.count == 1 && c.errors[0].location.line == 7, "\(c.errors)")
    }

    @Test func excludedAddressesMayBeOfTheOtherFamily() throws {
        let c = try KeepalivedConfigParser.parse("""
        vrrp_instance V {
            interface eth0
            virtual_router_id 9
            virtual_ipaddress {
                10.9.0.1/24
            }
            virtual_ipaddress_excluded {
                10.9.1.1/24 dev lo
                2001:db8::5/64
            }
        }
        """)
        let v = c.instances[0]
        #expect(v.virtualAddresses.count == 1 && v.excludedAddresses.map(\.address) == [IPAddress("10.9.1.1")!, IPAddress("2001:db8::5")!])
        #expect(c.errors.isEmpty && c.toleratedErrors.isEmpty, "\(c.errors) \(c.toleratedErrors)")
    }

    /// More VIPs than an advert holds: the rest become excluded addresses, reported as
    /// keepalived reports it (at 1500 bytes, 255 IPv4 addresses or 89 IPv6 ones).
    @Test(arguments: [(false, 254, 0), (false, 260, 5), (true, 89, 0), (true, 95, 6)])
    func excessVIPsMoveToTheExcluded(ipv6: Bool, count: Int, moved: Int) throws {
        let lines = (1...count).map { ipv6 ? "  2001:db8::\(String($0, radix: 16))/64" : "  10.9.\($0 / 200).\($0 % 200 + 1)/16" }
        let c = try KeepalivedConfigParser.parse("vrrp_instance V {\n interface tk1-none\n virtual_router_id 9\n virtual_ipaddress {\n"
            + lines.joined(separator: "\n") + "\n }\n virtual_ipaddress_excluded {\n  10.8.0.1/24\n }\n}\n")
        let v = c.instances[0]
        #expect(v.virtualAddresses.count == count - moved)
        #expect(v.excludedAddresses.count == moved + 1)
        #expect(v.excludedAddresses.last?.address == IPAddress("10.8.0.1"))
        let reported = c.toleratedErrors.filter { $0.message.contains("excess moved to eVIPs") }
        #expect(reported.count == (moved > 0 ? 1 : 0))
        if moved > 0 {
            #expect(reported[0].message.contains("Number of VIPs (\(count)) exceeds maximum/space available in packet (max \(count - moved) addresses)"))
        }
    }

    @Test func startupDelayAndProcessPriority() throws {
        let c = try KeepalivedConfigParser.parse("global_defs {\n vrrp_startup_delay 2.5\n vrrp_priority -5\n}\n")
        #expect(c.startupDelay == 2.5 && c.processPriority == -5 && c.errors.isEmpty)
        let bad = try KeepalivedConfigParser.parse("global_defs {\n vrrp_startup_delay 0\n vrrp_priority 20\n}\n")
        #expect(bad.startupDelay == 0 && bad.processPriority == nil && bad.errors.count == 2)
        // The control: without them, no delay and the nice value left alone.
        let none = try KeepalivedConfigParser.parse("global_defs {\n router_id x\n}\n")
        #expect(none.startupDelay == 0 && none.processPriority == nil)
    }
}

/// Lines naming an interface the host lacks are reported as keepalived reports them (its
/// `-t` exits 5); the same lines on an interface that exists are the control.
@Suite struct HostInterfaceReportTests {
    @Test(arguments: ["tk1-nosuch", "lo"])
    func missingInterfacesAreReported(device: String) throws {
        let c = try KeepalivedConfigParser.parse("""
        static_ipaddress {
            192.168.200.17/24 dev \(device)
        }
        static_routes {
            10.60.0.0/24 dev \(device)
        }
        static_rules {
            iif \(device) table 7 priority 9
        }
        vrrp_instance V {
            interface lo
            virtual_router_id 9
            virtual_ipaddress_excluded {
                10.9.1.1/24 dev \(device)
            }
        }
        """, file: "k.conf")
        let reported = c.toleratedErrors.map { "\($0.location.line) \($0.message)" }
        if device == "lo" {
            #expect(reported.isEmpty, "\(reported)")
        } else {
            #expect(reported == ["2 WARNING - interface tk1-nosuch for ip address 192.168.200.17/24 doesn't exist",
                                 "5 WARNING - interface tk1-nosuch for VROUTE nexthop doesn't exist",
                                 "8 WARNING - interface tk1-nosuch for rule doesn't exist",
                                 "14 WARNING - interface tk1-nosuch for ip address 10.9.1.1/24 doesn't exist"])
        }
    }
}
