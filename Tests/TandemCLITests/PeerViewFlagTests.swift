import Foundation
import TandemCLI
import Testing

/// `tandem run --peer-view PORT`: a port outside 1-65535 is refused before anything is
/// read; the control, a valid port, goes on to the configuration check.
@Suite struct PeerViewFlagTests {
    @Test(arguments: ["0", "65536", "-1"]) func aPortOutOfRangeIsRefused(_ port: String) {
        let out = CapturedOutput()
        #expect(RunTool(output: out).run(["--peer-view", port, "--check"]) == 64)
        #expect(out.stderr.last?.contains("--peer-view") == true, "\(out.stderr)")
    }

    @Test func aValidPortPassesTheFlagCheck() {
        let out = CapturedOutput()
        // The files do not exist: the refusal is theirs, not the flag's.
        _ = RunTool(output: out).run(["--peer-view", "3790", "--check", "--keepalived-config", "/nonexistent/k.conf",
                                      "--conntrackd-config", "/nonexistent/c.conf"])
        #expect(!out.stderr.joined().contains("--peer-view"), "\(out.stderr)")
    }

    /// The views go between the sync link's addresses (UDP, TCP) or to its Multicast
    /// group: --check passes each kind with the flag, as it does without it.
    @Test func everyLinkKindCarriesTheView() throws {
        let dir = NSTemporaryDirectory() + "tob-peerview-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "vrrp_instance V {\n  interface lo\n  virtual_router_id 9\n  priority 100\n  virtual_ipaddress {\n    10.233.9.9/32\n  }\n}\n"
            .write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
        let links = [
            "multicast": "Multicast {\n        IPv4_address 225.0.0.50\n        Group 3780\n        IPv4_interface 127.0.0.1\n        Interface lo\n    }",
            "udp": "UDP {\n        IPv4_address 127.0.0.1\n        IPv4_Destination_Address 127.0.0.2\n        Port 3780\n    }",
            "tcp": "TCP {\n        IPv4_address 127.0.0.1\n        IPv4_Destination_Address 127.0.0.2\n        Port 3780\n    }",
        ]
        for (name, link) in links {
            try "General {\n    UNIX {\n        Path \(dir)/ctl\n    }\n}\nSync {\n    Mode FTFW {\n    }\n    \(link)\n}\n"
                .write(toFile: dir + "/\(name).conf", atomically: true, encoding: .utf8)
        }
        func check(_ link: String, _ flag: [String]) -> (Int32, [String]) {
            let out = CapturedOutput()
            let code = RunTool(output: out).run(flag + ["--check", "--keepalived-config", dir + "/k.conf", "--conntrackd-config", dir + "/\(link).conf"])
            return (code, out.stderr)
        }
        for link in links.keys.sorted() {
            let with = check(link, ["--peer-view", "3790"]), without = check(link, [])
            #expect(with.0 == 0, "\(link): \(with.1)")
            #expect(without.0 == 0, "\(link): \(without.1)")
        }
    }
}
