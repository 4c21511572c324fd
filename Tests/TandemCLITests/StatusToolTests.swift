import Foundation
import TandemCLI
import Testing

/// `tandem status`'s arguments and its answer to a daemon that does not know the request:
/// refused loudly, never a crash and never an empty success.
@Suite struct StatusToolTests {
    @Test func helpNamesJSON() {
        let out = CapturedOutput()
        #expect(StatusTool(output: out).run(["--help"]) == 0)
        let text = out.stdout.joined(separator: "\n")
        #expect(text.contains("--json") && text.contains("tandem-status/2"), "\(text)")
    }

    @Test(arguments: [["--jsn"], ["--json", "extra"], ["-C"], ["--json", "--conntrackd-config"], ["-j"],
                            ["--control-socket"], ["-C", "a.conf", "--control-socket", "/run/x.ctl"], ["--keepalived", "-C", "a.conf"]])
    func badArgumentsExit64WithAMessage(_ argv: [String]) {
        let out = CapturedOutput()
        #expect(StatusTool(output: out).run(argv) == 64)
        #expect(out.stdout.isEmpty)
        #expect(out.stderr.count == 1 && out.stderr[0].hasPrefix("tandem status: "), "\(out.stderr)")
    }

    /// A stand-in for conntrackd 1.4.7: reads the request and closes without a word, as it
    /// does for a code it does not know. The tool must say so, not print nothing and succeed.
    @Test func aDaemonThatDropsTheRequestIsReported() throws {
        let dir = NSTemporaryDirectory() + "tdt-statustool-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socketPath = dir + "/ctl"
        try "General {\n    UNIX {\n        Path \(socketPath)\n    }\n}\n".write(toFile: dir + "/c.conf", atomically: true, encoding: .utf8)

        let out = CapturedOutput()
        #expect(StatusTool(output: out).run(["--json", "-C", dir + "/c.conf"]) == 1)
        #expect(out.stderr.first?.contains("no daemon answers on \(socketPath)") == true, "\(out.stderr)")

        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in socketPath.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(listener, 4) == 0)
        let received = Received()
        let server = Thread {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            var code: Int32 = 0
            if read(client, &code, 4) == 4 { received.set(code) }
            close(client)
        }
        server.start()
        let silent = CapturedOutput()
        #expect(StatusTool(output: silent).run(["--json", "--conntrackd-config", dir + "/c.conf"]) == 1)
        #expect(silent.stdout.isEmpty)
        #expect(silent.stderr.first?.contains("gave no JSON status") == true, "\(silent.stderr)")
        #expect(received.get() == 201)
    }

    /// `--control-socket` asks that socket directly (tandem keepalived has no conntrackd.conf).
    @Test func aControlSocketIsAskedDirectly() {
        let path = NSTemporaryDirectory() + "tdt-statustool-none-\(getpid()).ctl"
        let out = CapturedOutput()
        #expect(StatusTool(output: out).run(["--json", "--control-socket", path]) == 1)
        #expect(out.stderr.first?.contains("no daemon answers on \(path)") == true, "\(out.stderr)")
    }

    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var code: Int32?
        func set(_ c: Int32) { lock.lock(); code = c; lock.unlock() }
        func get() -> Int32? { lock.lock(); defer { lock.unlock() }; return code }
    }
}
