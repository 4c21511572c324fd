import ConfigParsing
import Conntrack
import Testing
import IPAddressing

/// `virtual_routes` lines in `ip route add` syntax.
struct VirtualRouteTests {
    @Test func gatewayDeviceMetricAndTable() throws {
        let r = try VirtualRoute(["10.55.0.0/24", "via", "10.98.5.254", "dev", "eth0", "metric", "7", "table", "100"])
        #expect(r.destination == IPAddress("10.55.0.0") && r.prefix == 24 && r.gateway == IPAddress("10.98.5.254"))
        #expect(r.device == "eth0" && r.metric == 7 && r.table == 100 && r.kind == .unicast)
    }

    @Test func kindsScopesAndDefaults() throws {
        #expect(try VirtualRoute(["blackhole", "10.57.0.0/24"]).kind == .blackhole)
        #expect(try VirtualRoute(["10.56.0.1", "dev", "eth0", "scope", "link"]).prefix == 32)
        #expect(try VirtualRoute(["10.56.0.1", "dev", "eth0", "scope", "link"]).scope == 253)
        let d = try VirtualRoute(["default", "via", "2001:db8::1"])
        #expect(d.destination == nil && d.family == AddressFamily.inet6)
        #expect(try VirtualRoute(["to", "10.1.0.0/16", "gw", "10.0.0.1", "table", "main"]).table == 254)
    }

    @Test(arguments: [["via", "10.0.0.1"], ["10.0.0.0/33"], ["10.0.0.0/8", "via"], ["10.0.0.0/8", "table", "nope"],
                      ["10.0.0.0/8", "via", "2001:db8::1"], ["10.0.0.0/8", "10.1.0.0/16"]])
    func badLinesAreTypedErrors(words: [String]) {
        #expect(throws: VirtualRoute.ParseError.self) { try VirtualRoute(words) }
    }
}
