#if canImport(Glibc)
import Glibc
#endif

/// conntrackd's LockFile, made to survive a crash. Tandem writes its pid into the file
/// and holds an flock on it for as long as it runs, so a lock whose process is gone is
/// known to be stale and is taken over (conntrackd 1.4.7 creates it empty with O_EXCL, and
/// one left by a crash blocks every restart until someone deletes it). A live holder is
/// named. An empty lock file is what a running conntrackd 1.4.7 holds, so it is refused as
/// conntrackd refuses it.
public final class LockFile {
    public enum Refusal: Error, CustomStringConvertible, Equatable {
        /// Another instance holds it; its pid when the file names one.
        case held(path: String, pid: Int32?)
        /// It exists, empty: conntrackd's own lock, perhaps of a running conntrackd.
        case exists(path: String)
        case cannotOpen(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .held(let path, let pid?): "lock file \(path) is held by pid \(pid): another instance is running"
            case .held(let path, nil): "lock file \(path) is held by another process: another instance is running"
            case .exists(let path): "lock file \(path) exists, perhaps conntrackd already running?"
            case .cannotOpen(let path, let e): "cannot open lock file \(path): \(String(cString: strerror(e)))"
            }
        }
    }

    public let path: String
    private let descriptor: Int32
    /// The pid a stale lock named, when one was taken over (for the log).
    public let tookOverFrom: Int32?

    /// Takes the lock for this process, or says who has it.
    public init(_ path: String) throws(Refusal) {
        self.path = path
        var fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        let created = fd >= 0
        if !created {
            guard errno == EEXIST else { throw .cannotOpen(path: path, errno: errno) }
            fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let pid = Self.pid(in: fd)
            close(fd)
            throw .held(path: path, pid: pid)
        }
        var previous: Int32?
        if !created {
            previous = Self.pid(in: fd)
            switch previous {
            case nil:
                close(fd)
                throw .exists(path: path)
            case let pid? where Self.isRunning(pid):
                // A process that names itself in the file but holds no flock (not one of
                // ours): leave it alone.
                close(fd)
                throw .held(path: path, pid: pid)
            default:
                break
            }
        }
        descriptor = fd
        tookOverFrom = previous
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Removes the lock on the way out.
    public func release() {
        unlink(path)
        close(descriptor)
    }

    static func pid(in fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return Int32(text.filter { !$0.isWhitespace })
    }

    /// Whether a process with this pid exists (signal 0 reaches it, or it is someone else's).
    static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, pid != getpid() else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
