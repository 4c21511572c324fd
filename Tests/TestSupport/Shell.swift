import Foundation

/// Runs programs for integration tests and finds the built `tandem` executable.
public enum Shell {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    @discardableResult
    public static func run(_ argv: [String], timeout: TimeInterval = 60) -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return Output(status: -1, stdout: "", stderr: "\(error)") }
        // Read both pipes while the process runs so a full pipe cannot block it.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(2000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        group.wait()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Starts a program in the background with stdout and stderr sent to files.
    public static func start(_ argv: [String], stdout: String, stderr: String) throws -> Process {
        FileManager.default.createFile(atPath: stdout, contents: nil)
        FileManager.default.createFile(atPath: stderr, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.standardOutput = FileHandle(forWritingAtPath: stdout)
        p.standardError = FileHandle(forWritingAtPath: stderr)
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The `tandem` binary built beside the test bundle.
    public static var tandem: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = bundle.deletingLastPathComponent()
        // The runner may be inside the bundle (…/X.xctest/…); walk up to the products dir.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("tandem").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/tandem").path
    }

    public static var isRoot: Bool { getuid() == 0 }

    public static func which(_ program: String) -> Bool {
        run(["sh", "-c", "command -v \(program)"]).status == 0
    }
}

/// A network namespace owned by one test: unique name, always deleted.
public final class TestNamespace: @unchecked Sendable {
    public let name: String
    private static let counter = NSLock()
    nonisolated(unsafe) private static var next = 0

    public init(_ tag: String) throws {
        Self.counter.lock()
        Self.next += 1
        let n = Self.next
        Self.counter.unlock()
        name = "tdt-\(tag)-\(getpid())-\(n)"
        let r = Shell.run(["ip", "netns", "add", name])
        guard r.status == 0 else { throw TestSetupError("ip netns add \(name): \(r.stderr)") }
        Shell.run(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    @discardableResult
    public func run(_ argv: [String], timeout: TimeInterval = 60) -> Shell.Output {
        Shell.run(["ip", "netns", "exec", name] + argv, timeout: timeout)
    }

    public func start(_ argv: [String], stdout: String, stderr: String) throws -> Process {
        try Shell.start(["ip", "netns", "exec", name] + argv, stdout: stdout, stderr: stderr)
    }

    public func tandem(_ args: [String]) -> Shell.Output { run([Shell.tandem] + args) }

    /// Deletes the namespace; called by tests in `defer`, and as a last resort on deinit.
    public func remove() { Shell.run(["ip", "netns", "del", name]) }
    deinit { remove() }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
