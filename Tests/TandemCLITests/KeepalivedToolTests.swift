import Foundation
import TandemCLI
import TestSupport
import Testing

/// `tandem keepalived -t` exits as keepalived 2.2.7's `-t` does for the same files.
@Suite(.enabled(if: Shell.which("keepalived"), "needs keepalived")) struct KeepalivedToolTests {
    static let cases: [(String, String)] = [
        ("bad-vrid", "vrrp_instance A {\n interface lo\n virtual_router_id 300\n bogus 1\n}\n"),
        ("missing-interface", "vrrp_instance A {\n interface tdt-nonexistent0\n virtual_router_id 7\n virtual_ipaddress {\n  10.9.9.9/24\n }\n}\n"),
    ]

    @Test(arguments: cases.map(\.0))
    func exitCodesMatchKeepalived(name: String) throws {
        let text = Self.cases.first { $0.0 == name }!.1
        let path = NSTemporaryDirectory() + "tdt-ka-\(getpid())-\(name).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let theirs = Shell.run(["keepalived", "-t", "-f", path])
        let out = CapturedOutput()
        let ours = KeepalivedTool(output: out).run(["-t", "-f", path])
        #expect(ours == theirs.status, "\(out.stderr)")
    }

    @Test func seedLabConfigReportsTheMissingInterfaces() {
        let path = SharedVectors.sharedDirectory + "/vectors/reference-output/sync-stop-polDROP-poll5/fw1-keepalived.conf"
        let out = CapturedOutput()
        #expect(KeepalivedTool(output: out).run(["-t", "-f", path]) == Shell.run(["keepalived", "-t", "-f", path]).status)
        #expect(out.stderr.contains { $0.hasSuffix("warning: interface al-ens4-lan for vrrp_instance INT doesn't exist") })
    }
}
