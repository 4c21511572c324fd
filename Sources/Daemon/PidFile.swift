#if canImport(Glibc)
import Glibc
#endif

/// keepalived's pid files (-p, -r, -c, -b): written at start, checked for a live owner, and
/// removed at exit only while they still name this process.
public enum PidFile {
    /// The pid the file names, when that process is running and is not this one.
    public static func livePid(in path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let pid = LockFile.pid(in: fd), LockFile.isRunning(pid) else { return nil }
        return pid
    }

    /// False when the file cannot be made (the caller refuses to start, as keepalived does).
    public static func write(_ path: String) -> Bool {
        let text = Array("\(getpid())\n".utf8)
        // Readable by all whatever the umask (global_defs' or -u), as keepalived makes it:
        // its pidfile_write lifts the mask's read and owner-write bits for the open.
        let mask = umask(0)
        umask(mask & ~0o644)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        umask(mask)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == text.count
    }

    /// Removes the file unless another process has taken it over meanwhile.
    public static func remove(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let owner = LockFile.pid(in: fd)
        close(fd)
        if owner == nil || owner == getpid() { unlink(path) }
    }
}
