#if canImport(Glibc)
import Glibc
#endif
@testable import Daemon
import Testing

/// The lock file a crash leaves behind must not block the restart; a live holder must.
@Suite struct LockFileTests {
    static func path(_ tag: String) -> String { "/tmp/tdt-lock-\(tag)-\(getpid())" }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func read(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = Glibc.read(fd, &buffer, buffer.count)
        return String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
    }

    /// A pid that is certainly not running: a child that has exited and been reaped.
    static func deadPid() -> Int32 {
        let pid = fork()
        if pid == 0 { _exit(0) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return pid
    }

    @Test func takesAFreshLockAndRemovesItOnRelease() throws {
        let path = Self.path("fresh")
        unlink(path)
        let lock = try LockFile(path)
        #expect(lock.tookOverFrom == nil)
        #expect(Self.read(path) == "\(getpid())\n")
        lock.release()
        #expect(access(path, F_OK) != 0)
    }

    @Test func aHeldLockIsRefusedWithItsHolder() throws {
        let path = Self.path("held")
        unlink(path)
        let lock = try LockFile(path)
        defer { lock.release() }
        // flock is per open file: a second open, even in this process, finds it held.
        #expect(throws: LockFile.Refusal.held(path: path, pid: getpid())) { try LockFile(path) }
    }

    @Test func aStaleLockIsTakenOver() throws {
        let path = Self.path("stale")
        let dead = Self.deadPid()
        Self.write("\(dead)\n", to: path)
        let lock = try LockFile(path)
        defer { lock.release() }
        #expect(lock.tookOverFrom == dead)
        #expect(Self.read(path) == "\(getpid())\n")
    }

    @Test func conntrackdsEmptyLockAndALiveUnlockedOwnerAreRefused() {
        let path = Self.path("empty")
        Self.write("", to: path)
        defer { unlink(path) }
        #expect(throws: LockFile.Refusal.exists(path: path)) { try LockFile(path) }
        // pid 1 runs, and holds no flock on this file: refused all the same.
        Self.write("1\n", to: path)
        #expect(throws: LockFile.Refusal.held(path: path, pid: 1)) { try LockFile(path) }
    }

    @Test func pidFilesNameOnlyLiveOwnersAndAreRemovedOnlyByTheirOwn() {
        let path = Self.path("pid")
        Self.write("\(Self.deadPid())\n", to: path)
        #expect(PidFile.livePid(in: path) == nil)
        Self.write("1\n", to: path)
        #expect(PidFile.livePid(in: path) == 1)
        PidFile.remove(path)
        #expect(access(path, F_OK) == 0, "another process's pid file was removed")
        PidFile.write(path)
        #expect(PidFile.livePid(in: path) == nil, "our own pid is not another instance")
        PidFile.remove(path)
        #expect(access(path, F_OK) != 0)
    }
}
