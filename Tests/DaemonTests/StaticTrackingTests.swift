import ConfigParsing
@testable import Daemon
import IPAddressing
import Testing

/// Which statics keepalived 2.2.7 puts back, and when (StaticTracking), and the
/// RTM_DELROUTE / RTM_DELRULE bodies the link monitor reads for it.
@Suite struct StaticTrackingTests {
    static func attribute(_ type: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(4 + payload.count), 0, type, 0] + payload + [UInt8](repeating: 0, count: (4 - payload.count % 4) % 4)
    }

    static func configuration(virtuals: Bool) throws -> KeepalivedConfiguration {
        let v = virtuals ? "  virtual_routes {\n    10.9.70.0/24 via 10.9.0.9 dev eth0\n  }\n  virtual_rules {\n    from 10.9.71.0/24 table 101 priority 101\n  }\n" : ""
        return try KeepalivedConfigParser.parse("""
        static_ipaddress {
          10.9.5.1/24 dev eth1
          10.9.6.1/24 dev eth1 no_track
          10.9.7.1/24 dev eth2
        }
        static_routes {
          10.9.50.0/24 via 10.9.0.9 dev eth1
          10.9.51.0/24 via 10.9.0.9
          10.9.52.0/24 via 10.9.0.9 dev eth1 no_track
          10.9.53.0/24 via 10.9.0.9 dev eth1 table 100
        }
        static_rules {
          from 10.9.60.0/24 table 100 priority 100
          from 10.9.62.0/24 table 100 priority 102 no_track
          from fd00:9::/64 table 100 priority 103
        }
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
        \(v)}
        """, links: { [] })
    }

    static func tracking(virtuals: Bool) throws -> StaticTracking {
        let c = try configuration(virtuals: virtuals)
        return StaticTracking(c, virtualRoutes: c.instances.flatMap { $0.virtualRoutes.compactMap { try? VirtualRoute($0) } })
    }

    @Test func anInterfaceComingUpGetsItsTrackedAddressesAndRoutes() throws {
        let s = try Self.tracking(virtuals: false)
        let (addresses, routes) = s.comingUp("eth1")
        #expect(addresses.map { "\($0.address)" } == ["10.9.5.1"])
        #expect(routes.map { "\($0.destination!)/\($0.prefix)" } == ["10.9.50.0/24", "10.9.53.0/24"])
        // The control: another interface brings back only its own.
        #expect(s.comingUp("eth2").addresses.map { "\($0.address)" } == ["10.9.7.1"] && s.comingUp("eth2").routes.isEmpty)
    }

    /// Deletions are heard only for a family with a tracked virtual route or rule.
    @Test func deletionsAreWatchedOnlyWhereAVirtualRouteOrRuleIsTracked() throws {
        #expect(try Self.tracking(virtuals: true).watch == .init(routes: [2], rules: [2]))
        #expect(try Self.tracking(virtuals: false).watch == .init())
    }

    @Test func aDeletedRouteMatchesByTableDestinationAndPrefix() throws {
        let s = try Self.tracking(virtuals: true)
        let deleted = LinkMonitor.DeletedRoute(family: 2, table: 254, destination: [10, 9, 50, 0], prefix: 24, tos: 0)
        #expect(s.deleted(deleted).map(\.destination) == [IPAddress("10.9.50.0")])
        // Controls: another table, prefix, an untracked route, or an unwatched family match nothing.
        #expect(s.deleted(.init(family: 2, table: 100, destination: [10, 9, 50, 0], prefix: 24, tos: 0)).isEmpty)
        #expect(s.deleted(.init(family: 2, table: 254, destination: [10, 9, 50, 0], prefix: 25, tos: 0)).isEmpty)
        #expect(s.deleted(.init(family: 2, table: 254, destination: [10, 9, 51, 0], prefix: 24, tos: 0)).isEmpty)
        #expect(s.deleted(.init(family: 2, table: 254, destination: [10, 9, 52, 0], prefix: 24, tos: 0)).isEmpty)
        #expect(s.deleted(.init(family: 2, table: 100, destination: [10, 9, 53, 0], prefix: 24, tos: 0)).count == 1)
        #expect(try Self.tracking(virtuals: false).deleted(deleted).isEmpty)
    }

    @Test func rulesRetriedAreTheTrackedOnesOfTheFamily() throws {
        let s = try Self.tracking(virtuals: true)
        #expect(s.rulesToRetry(family: 2).map(\.priority) == [100])
        #expect(s.rulesToRetry(family: 10).isEmpty)
        #expect(try Self.tracking(virtuals: false).rulesToRetry(family: 2).isEmpty)
    }

    @Test func routeDeletionBodies() {
        // rtmsg: inet, /24, tos 0, table 254, protocol 18; RTA_DST 10.9.50.0, RTA_OIF 3.
        let body: [UInt8] = [2, 24, 0, 0, 254, 18, 0, 1, 0, 0, 0, 0] + Self.attribute(1, [10, 9, 50, 0]) + Self.attribute(4, [3, 0, 0, 0])
        #expect(LinkMonitor.parseDeletedRoute(body, 0..<body.count) == .init(family: 2, table: 254, destination: [10, 9, 50, 0], prefix: 24, tos: 0, interface: 3))
        // RTA_TABLE wins over the header's byte.
        let table = [2, 24, 0, 0, 252, 18, 0, 1, 0, 0, 0, 0] + Self.attribute(1, [10, 9, 50, 0]) + Self.attribute(15, [0, 1, 0, 0])
        #expect(LinkMonitor.parseDeletedRoute(table, 0..<table.count)?.table == 256)
        // Controls: the kernel's own route (protocol 2), a short body, a broken attribute.
        var kernel = body
        kernel[5] = 2
        #expect(LinkMonitor.parseDeletedRoute(kernel, 0..<kernel.count) == nil)
        #expect(LinkMonitor.parseDeletedRoute(body, 0..<8) == nil)
        let broken = Array(body[0..<12]) + [40, 0, 1, 0, 10, 9]
        #expect(LinkMonitor.parseDeletedRoute(broken, 0..<broken.count) == nil)
    }

    @Test func ruleDeletionBodies() {
        let header: [UInt8] = [2, 0, 24, 0, 100, 0, 0, 1, 0, 0, 0, 0]
        let ours = header + Self.attribute(2, [10, 9, 60, 0]) + Self.attribute(21, [18])
        #expect(LinkMonitor.parseDeletedRule(ours, 0..<ours.count) == 2)
        let unmarked = header + Self.attribute(2, [10, 9, 60, 0])
        #expect(LinkMonitor.parseDeletedRule(unmarked, 0..<unmarked.count) == 2)
        // Controls: another protocol's rule, another family, a short body.
        let boot = header + Self.attribute(21, [3])
        #expect(LinkMonitor.parseDeletedRule(boot, 0..<boot.count) == nil)
        var other = ours
        other[0] = 7
        #expect(LinkMonitor.parseDeletedRule(other, 0..<other.count) == nil)
        #expect(LinkMonitor.parseDeletedRule(ours, 0..<6) == nil)
    }

    @Test func logTextsAsKeepalivedWritesThem() throws {
        let c = try Self.configuration(virtuals: false)
        #expect(KeepalivedDaemon.keepalivedText(c.staticRoutes[0]) == "prepend 10.9.50.0/24 via inet 10.9.0.9 dev eth1 proto 18")
        #expect(KeepalivedDaemon.keepalivedText(c.staticRoutes[3]) == "prepend 10.9.53.0/24 via inet 10.9.0.9 dev eth1 table 100 proto 18")
        #expect(KeepalivedDaemon.keepalivedText(c.staticRules[0]) == "from 10.9.60.0/24 priority 100 tos 0x0 protocol 18 lookup 100")
        #expect(KeepalivedDaemon.keepalivedText(c.staticRules[1]) == "from 10.9.62.0/24 priority 102 tos 0x0 lookup 100 no_track")
    }

    /// A virtual route matches on its metric and interface too; a virtual rule on its
    /// selector, preference and action.
    @Test func deletedVirtualRoutesAndRulesMatchAsKeepalivedMatchesThem() throws {
        let v = try VirtualRoute(["10.9.70.0/24", "via", "10.9.0.9", "dev", "eth1", "metric", "5"])
        let d = LinkMonitor.DeletedRoute(family: 2, table: 254, destination: [10, 9, 70, 0], prefix: 24, tos: 0, metric: 5, interface: 3)
        let index: (String) -> UInt32? = { $0 == "eth1" ? 3 : nil }
        #expect(DeletedVirtualRoutes.matches(v, d, index: index))
        var other = d
        other.metric = 0
        #expect(!DeletedVirtualRoutes.matches(v, other, index: index))
        other = d
        other.interface = 4
        #expect(!DeletedVirtualRoutes.matches(v, other, index: index))
        let rule = try VirtualRule(["from", "10.9.71.0/24", "table", "101", "priority", "101"])
        let ours = KeepalivedDaemon.kernelRule(rule)
        var kernel = ours
        kernel.protocolNumber = 18
        #expect(DeletedVirtualRoutes.matches(ours, kernel))
        kernel.priority = 102
        #expect(!DeletedVirtualRoutes.matches(ours, kernel))
        kernel = ours
        kernel.table = 100
        #expect(!DeletedVirtualRoutes.matches(ours, kernel))
    }

    @Test func aRouteDeletionCarriesItsMetricAndInterface() {
        let body: [UInt8] = [2, 24, 0, 0, 254, 18, 0, 1, 0, 0, 0, 0] + Self.attribute(1, [10, 9, 70, 0]) + Self.attribute(4, [3, 0, 0, 0])
            + Self.attribute(6, [5, 0, 0, 0])
        let d = LinkMonitor.parseDeletedRoute(body, 0..<body.count)
        #expect(d?.metric == 5 && d?.interface == 3)
    }
}
