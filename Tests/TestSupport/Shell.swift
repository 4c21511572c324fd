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

    /// Starts a program in the background with stdout and stderr sent to files. Spawned
    /// with a clean signal mask and default dispositions: Foundation's Process passes on
    /// the test runner's blocked signals, which makes SIGINT/SIGTERM never arrive.
    public static func start(_ argv: [String], stdout: String, stderr: String) throws -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let full = ["/usr/bin/env"] + argv
        var cArgs: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw TestSetupError("posix_spawn \(argv): \(rc)") }
        return Spawned(pid: pid)
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

    /// `prefix`: the owner's namespace prefix (each engineer's tests have their own).
    public init(_ tag: String, prefix: String = "tdt") throws {
        Self.counter.lock()
        Self.next += 1
        let n = Self.next
        Self.counter.unlock()
        name = "\(prefix)-\(tag)-\(getpid())-\(n)"
        let r = Shell.run(["ip", "netns", "add", name])
        guard r.status == 0 else { throw TestSetupError("ip netns add \(name): \(r.stderr)") }
        Shell.run(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    @discardableResult
    public func run(_ argv: [String], timeout: TimeInterval = 60) -> Shell.Output {
        Shell.run(["ip", "netns", "exec", name] + argv, timeout: timeout)
    }

    public func start(_ argv: [String], stdout: String, stderr: String) throws -> Spawned {
        try Shell.start(["ip", "netns", "exec", name] + argv, stdout: stdout, stderr: stderr)
    }

    public func tandem(_ args: [String]) -> Shell.Output { run([Shell.tandem] + args) }

    /// Deletes the namespace; called by tests in `defer`, and as a last resort on deinit.
    /// Tried again while its name is still there: beside another test's `ip netns add`
    /// a deletion was seen to leave the name behind (twice in one day's local runs).
    public func remove() {
        for attempt in 0..<5 {
            Shell.run(["ip", "netns", "del", name])
            guard FileManager.default.fileExists(atPath: "/run/netns/\(name)") else { return }
            usleep(UInt32(100_000 * (attempt + 1)))
        }
    }
    deinit { remove() }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// A process started by `Shell.start`, stopped and reaped by PID.
public final class Spawned: @unchecked Sendable {
    public let pid: pid_t
    public private(set) var exitStatus: Int32?
    init(pid: pid_t) { self.pid = pid }

    public func signal(_ s: Int32) { if exitStatus == nil { kill(pid, s) } }
    public func interrupt() { signal(SIGINT) }
    public func terminate() { signal(SIGTERM) }

    /// Waits up to `timeout` seconds; kills with SIGKILL after that. Returns the exit code
    /// (128 + signal for a signalled process).
    @discardableResult
    public func wait(timeout: Double = 10) -> Int32 {
        if let s = exitStatus { return s }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 { exitStatus = -1; return -1 }
            if Date() > deadline { kill(pid, SIGKILL); _ = waitpid(pid, &status, 0); break }
            usleep(10_000)
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    /// Stops the process if it still runs; used in `defer`.
    public func stop() {
        guard exitStatus == nil else { return }
        terminate()
        wait(timeout: 3)
    }
}
