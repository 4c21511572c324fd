import Foundation
import TestSupport
import Testing

/// `virtual_routes` come with the MASTER state and go with it, in the kernel's table.
@Suite(.serialized, .enabled(if: Shell.isRoot, "needs root"))
struct VirtualRouteIOTests {
    @Test func routesFollowTheMasterState() throws {
        let link = try VethLink(tag: "vr", prefix: "tdo", addressA: "10.98.5.1/24", addressB: "10.98.5.2/24")
        defer { link.remove() }
        let dir = NSTemporaryDirectory() + "tdt-vr-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dev = link.interfaceA
        let config = """
        vrrp_instance R {
            state MASTER
            interface \(dev)
            virtual_router_id 77
            priority 100
            advert_int 1
            virtual_ipaddress {
                10.98.5.100/24 dev \(dev)
            }
            virtual_routes {
                10.55.0.0/24 via 10.98.5.254 dev \(dev)
                10.56.0.0/24 dev \(dev) scope link
                blackhole 10.57.0.0/24
                192.168.77.0/24 src 10.98.5.100 dev \(dev) metric 7
                10.58.0.0/24 via 10.98.5.254 dev nosuchif
            }
        }
        """
        try config.write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let daemon = try link.a.start([Shell.tandem, "keepalived", "-n", "-l", "-f", dir + "/k.conf", "-p", dir + "/k.pid", "-r", dir + "/kv.pid"], stdout: dir + "/out", stderr: dir + "/err")
        defer { daemon.stop() }
        func routes() -> String { link.a.run(["ip", "-4", "route", "show", "table", "all"]).stdout }
        var table = ""
        let end = Date().addingTimeInterval(15)
        while Date() < end {
            table = routes()
            if table.contains("10.55.0.0/24") { break }
            usleep(100_000)
        }
        #expect(table.contains("10.55.0.0/24 via 10.98.5.254 dev \(dev) proto keepalived"), "\(table)")
        #expect(table.contains("10.56.0.0/24 dev \(dev) proto keepalived scope link"), "\(table)")
        #expect(table.contains("blackhole 10.57.0.0/24 proto keepalived"), "\(table)")
        #expect(table.contains("192.168.77.0/24 dev \(dev) proto keepalived scope link src 10.98.5.100 metric 7"), "\(table)")
        #expect(!table.contains("10.58.0.0"))
        daemon.terminate()
        _ = daemon.wait(timeout: 5)
        let after = routes()
        #expect(!after.contains("proto keepalived"), "\(after)")
        #expect(Vectors.readText(dir + "/err").contains("no interface nosuchif"))
    }
}
