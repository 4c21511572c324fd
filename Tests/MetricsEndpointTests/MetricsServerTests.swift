import Foundation
import MetricsEndpoint
import Prometheus
import TestSupport
import Testing

/// The HTTP side on loopback: `--metrics-listen`'s parsing, `/metrics` served from the
/// registry, other paths refused by the server library, and a port already in use
/// refused at start with the reason (the control: the same start on a free port works).
@Suite(.serialized) struct MetricsServerTests {
    @Test func listenAddressesParse() throws {
        #expect(try ListenAddress("127.0.0.1:9633") == ListenAddress("127.0.0.1:9633"))
        let v4 = try ListenAddress("10.233.0.1:9100")
        #expect(v4.host == "10.233.0.1" && v4.port == 9100 && !v4.isIPv6)
        let v6 = try ListenAddress("[::1]:9100")
        #expect(v6.host == "::1" && v6.port == 9100 && v6.isIPv6 && v6.description == "[::1]:9100")
        #expect(throws: ListenAddress.ParseError.notAddressAndPort("::1:9100")) { try ListenAddress("::1:9100") }
        #expect(throws: ListenAddress.ParseError.notAddressAndPort("127.0.0.1")) { try ListenAddress("127.0.0.1") }
        #expect(throws: ListenAddress.ParseError.badAddress("localhost")) { try ListenAddress("localhost:9100") }
        #expect(throws: ListenAddress.ParseError.badAddress("1.2.3")) { try ListenAddress("1.2.3:9100") }
        #expect(throws: ListenAddress.ParseError.badAddress("1.2.3.4")) { try ListenAddress("[1.2.3.4]:9100") }
        #expect(throws: ListenAddress.ParseError.notAddressAndPort("[::1]9100")) { try ListenAddress("[::1]9100") }
        #expect(throws: ListenAddress.ParseError.badPort("0")) { try ListenAddress("127.0.0.1:0") }
        #expect(throws: ListenAddress.ParseError.badPort("70000")) { try ListenAddress("127.0.0.1:70000") }
        #expect(throws: ListenAddress.ParseError.badPort("")) { try ListenAddress("[::1]:") }
    }

    /// A port nothing listens on now (the kernel's pick, released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: a.sin_port))
    }

    static func get(_ url: String) -> Shell.Output {
        Shell.run(["curl", "-s", "-g", "--max-time", "5", "-w", "\n%{http_code}", url], timeout: 10)
    }

    @Test func servesTheRegistryAndRefusesAPortInUse() throws {
        let port = Self.freePort()
        let server = try MetricsServer.start(try ListenAddress("127.0.0.1:\(port)"))
        defer { server.stop() }
        server.registry.makeGauge(descriptor: MetricNameDescriptor(metricName: "tandem_test_gauge")).set(to: 7.0)
        let scrape = Self.get("http://127.0.0.1:\(port)/metrics")
        #expect(scrape.lines.last == "200", "\(scrape.stdout) \(scrape.stderr)")
        #expect(scrape.stdout.contains("tandem_test_gauge 7"))
        // No loop publishes here: the scrape waited its bounded time and served what there was.
        let other = Self.get("http://127.0.0.1:\(port)/other")
        #expect(other.lines.last == "404")
        // The same address again: refused at start, with the reason.
        let address = try ListenAddress("127.0.0.1:\(port)")
        let refused = #expect(throws: MetricsServer.StartError.self) { _ = try MetricsServer.start(address) }
        let why = refused.map { "\($0)" } ?? ""
        #expect(why.contains("cannot listen on 127.0.0.1:\(port)") && why.lowercased().contains("in use"), "\(why)")
        // The first server still answers.
        #expect(Self.get("http://127.0.0.1:\(port)/metrics").lines.last == "200")
    }

    @Test func servesOnIPv6Loopback() throws {
        let port = Self.freePort()
        let server = try MetricsServer.start(try ListenAddress("[::1]:\(port)"))
        defer { server.stop() }
        #expect(Self.get("http://[::1]:\(port)/metrics").lines.last == "200")
    }
}
