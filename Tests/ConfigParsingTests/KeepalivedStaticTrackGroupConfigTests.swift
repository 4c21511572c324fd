import ConfigParsing
import Netlink
import Testing

/// Static track groups as keepalived 2.2.7 reads them (vrrp_parser.c, vrrp_static_track.c;
/// the words from its log at start, measured with a config of the same shape).
@Suite struct KeepalivedStaticTrackGroupConfigTests {
    static let links = ["eth0", "eth1", "eth2", "eth3"].enumerated().map { LinkDescription(index: UInt32($0.offset + 2), name: $0.element, address: [2, 0, 0, 0, 0, UInt8($0.offset)]) }

    static func parse(_ text: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse(text + """

        vrrp_instance V {
          interface eth0
          virtual_router_id 51
        }
        vrrp_instance W {
          interface eth0
          virtual_router_id 52
        }
        vrrp_instance X {
          interface eth0
          virtual_router_id 53
        }
        """, file: "/k.conf", links: { Self.links })
    }

    /// What the parser said besides the host's missing interfaces (this machine has no eth1).
    static func said(_ errors: [ConfigError]) -> [String] {
        errors.filter { !$0.message.contains("doesn't exist") }.map(\.description)
    }

    static func tracked(_ c: KeepalivedConfiguration, _ name: String) -> [String] {
        c.instances.first { $0.name == name }?.staticTrackedInterfaces ?? ["no instance \(name)"]
    }

    @Test func aGroupsInstancesTrackEachStaticsInterface() throws {
        let c = try Self.parse("""
        track_group G {
          group {
            V W
          }
        }
        static_ipaddress {
          10.9.5.1/24 dev eth1 track_group G
          10.9.6.1/24 dev eth0 track_group G
        }
        static_routes {
          10.9.50.0/24 via 10.9.0.9 dev eth2 track_group G
        }
        static_rules {
          from 10.9.60.0/24 iif eth3 table 100 priority 100 track_group G
        }
        """)
        // The instance's own interface too: a static's interface is added whatever it is.
        #expect(Self.tracked(c, "V") == ["eth1", "eth0", "eth2", "eth3"])
        #expect(Self.tracked(c, "W") == ["eth1", "eth0", "eth2", "eth3"])
        #expect(c.instances.first { $0.name == "V" }?.trackedInterfaces == ["eth1", "eth0", "eth2", "eth3"])
        // The control: an instance outside the group tracks none of them.
        #expect(Self.tracked(c, "X").isEmpty && c.instances.first { $0.name == "X" }?.trackedInterfaces == [])
        #expect(c.staticAddresses.map(\.trackGroup) == ["G", "G"] && c.staticRoutes.map(\.trackGroup) == ["G"]
                && c.staticRules.map(\.trackGroup) == ["G"])
        #expect(c.unsupported.isEmpty && c.errors.isEmpty && Self.said(c.toleratedErrors).isEmpty && c.warnings.isEmpty,
                "\(c.unsupported) \(c.errors) \(c.toleratedErrors) \(c.warnings)")
    }

    /// `no_track` wins: keepalived says so at start and the group's instances do not follow it.
    @Test func noTrackWithATrackGroupIsNotTracked() throws {
        let c = try Self.parse("""
        track_group G {
          group {
            V
          }
        }
        static_ipaddress {
          10.9.6.1/24 dev eth1 track_group G no_track
        }
        static_routes {
          10.9.52.0/24 via 10.9.0.9 dev eth2 no_track track_group G
        }
        static_rules {
          from 10.9.62.0/24 iif eth3 table 100 priority 102 no_track track_group G
        }
        """)
        #expect(Self.tracked(c, "V").isEmpty)
        #expect(c.warnings.map(\.message) == ["Static address has both track_group and no_track set - not tracking",
                                                "Static route has both track_group and no_track set - not tracking",
                                                "Static rule has both track_group and no_track set - not tracking"])
        // Still named: a static route or rule naming a group makes keepalived hear deletions.
        #expect(c.staticRoutes.map(\.trackGroup) == ["G"] && c.staticRules.map(\.trackGroup) == ["G"])
    }

    @Test func whatKeepalivedReportsWhileReadingTheLines() throws {
        let c = try Self.parse("""
        track_group G {
          group {
            V
          }
        }
        static_ipaddress {
          10.9.5.1/24 dev eth1 track_group NOPE
          10.9.6.1/24 dev eth1 track_group G track_group G label x
          10.9.7.1/24 dev eth1 track_group
        }
        static_routes {
          10.9.51.0/24 via 10.9.0.9 track_group G
        }
        static_rules {
          from 10.9.61.0/24 table 100 priority 101 track_group G
        }
        """)
        #expect(Self.said(c.toleratedErrors) == [
            "/k.conf:7:36: error: track_group NOPE not found (at `NOPE')",
            "/k.conf:8:50: error: track_group G is a duplicate (at `G')",
            "/k.conf:9:24: error: No track_group parameter specified for 10.9.7.1/24 (at `track_group')",
            "/k.conf:12:3: error: Warning - cannot track route 10.9.51.0/24 with no interface specified, not tracking (at `10.9.51.0/24')",
            "/k.conf:12:3: error: Static route cannot have track group if no oif specified (at `10.9.51.0/24')",
            "/k.conf:15:3: error: Static rule cannot have track_group if dev/iif not specified (at `from')",
        ])
        // The unknown group is not kept; the duplicate ends the line (its label is not read);
        // the address without a group name is left out; route and rule lose their group.
        #expect(c.staticAddresses.map(\.trackGroup) == [nil, "G"] && c.staticAddresses.map(\.label) == [nil, nil])
        #expect(c.staticRoutes.map(\.trackGroup) == [nil] && c.staticRules.map(\.trackGroup) == [nil])
        #expect(Self.tracked(c, "V") == ["eth1"])
    }

    @Test func whatKeepalivedReportsAboutTheGroups() throws {
        let c = try Self.parse("""
        track_group {
        }
        track_group G {
          group {
            V
          }
        }
        track_group G {
          group {
            W
          }
        }
        track_group E {
          group {
          }
        }
        track_group U {
          group {
            NOPE
          }
        }
        track_group P {
          group {
            NOPE W
          }
          group {
            X
          }
        }
        static_ipaddress {
          10.9.5.1/24 dev eth1 track_group E
          10.9.6.1/24 dev eth2 track_group U
          10.9.7.1/24 dev eth3 track_group P
        }
        """)
        #expect(Self.said(c.toleratedErrors) == [
            "/k.conf:1:1: error: track_group must have a name - skipping (at `track_group')",
            "/k.conf:8:13: error: track_group G already defined (at `G')",
            "/k.conf:14:3: error: Warning - track group E has empty group block (at `group')",
            "/k.conf:26:3: error: Group list already specified for sync group P (at `group')",
        ])
        #expect(c.warnings.map(\.message) == [
            "Static track group E has no virtual router(s)", "Static track group E init fails - removing",
            "vrrp instance NOPE specified in track group U doesn't exist - ignoring",
            "Static track group U has no VRRP instance(s)", "Static track group U init fails - removing",
            "vrrp instance NOPE specified in track group P doesn't exist - ignoring",
        ])
        // Only P is left, with W: the first G is kept, the second dropped.
        #expect(Self.tracked(c, "V").isEmpty && Self.tracked(c, "W") == ["eth3"] && Self.tracked(c, "X").isEmpty)
        #expect(c.staticTrackGroups.map(\.name) == ["G", "E", "U", "P"])
    }
}
