import ConfigParsing
import Netlink
import Testing

/// promote_secondaries and the statics' `no_track` as keepalived 2.2.7 reads them (the
/// words from its `-t`).
@Suite struct KeepalivedStaticTrackingConfigTests {
    static let eth0 = LinkDescription(index: 2, name: "eth0", address: [2, 0, 0, 0, 0, 1])

    static func instance(_ extra: String) throws -> KeepalivedConfiguration {
        try KeepalivedConfigParser.parse("vrrp_instance V {\n interface eth0\n virtual_router_id 51\n promote_secondaries\n\(extra) virtual_ipaddress {\n  10.1.1.1/24\n }\n}\n",
                                         file: "/k.conf", links: { [Self.eth0] })
    }

    @Test func promoteSecondariesIsActedOn() throws {
        let c = try Self.instance("")
        #expect(c.instances.first?.promoteSecondaries == true)
        #expect(c.unsupported.isEmpty && c.errors.isEmpty && c.toleratedErrors.allSatisfy { $0.message.contains("doesn't exist") })
    }

    /// On a use_vmac instance: keepalived's error, at the word, and the word dropped.
    @Test func promoteSecondariesOnAVMACIsDropped() throws {
        let c = try Self.instance(" use_vmac\n")
        #expect(c.instances.first?.promoteSecondaries == false && c.instances.first?.vmacName == "vrrp.51")
        #expect(c.toleratedErrors.filter { !$0.message.contains("doesn't exist") }.map(\.description) == ["/k.conf:4:2: error: (V) promote_secondaries is automatically set for vmacs - ignoring (at `promote_secondaries')"])
    }

    /// A static route without its interface cannot be tracked: keepalived says so (a
    /// configuration error) unless it is written `no_track`; one with it is tracked.
    @Test func aStaticRouteWithoutItsInterfaceIsNotTracked() throws {
        let c = try KeepalivedConfigParser.parse("""
        static_routes {
          10.9.50.0/24 via 10.9.0.9 dev eth0
          10.9.51.0/24 via 10.9.0.9
          10.9.52.0/24 via 10.9.0.9 no_track
          10.9.53.0/24 via 10.9.0.9 dev eth0 no_track
        }
        """, file: "/k.conf", links: { [Self.eth0] })
        #expect(c.staticRoutes.map(\.tracked) == [true, false, false, false])
        #expect(c.staticRoutes.map(\.noTrack) == [false, false, true, true])
        #expect(c.toleratedErrors.filter { !$0.message.contains("doesn't exist") }.map(\.description) == [
            "/k.conf:3:3: error: Warning - cannot track route 10.9.51.0/24 with no interface specified, not tracking (at `10.9.51.0/24')",
        ])
    }
}
