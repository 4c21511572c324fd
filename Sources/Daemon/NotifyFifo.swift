#if canImport(Glibc)
import LinkIO
import Glibc
#endif

/// keepalived's notify FIFO: one line per state change, in event order
/// (`INSTANCE "VI_1" MASTER 50`, `GROUP "G1" BACKUP 0`). Opened read-write and
/// non-blocking, as keepalived does, so a missing or slow reader never stalls the
/// protocol: a full pipe loses the line (counted and logged) instead.
final class NotifyFifo {
    let path: String
    private(set) var descriptor: Int32
    private(set) var dropped = 0
    var reader: pid_t?

    init(path: String) throws(SetupError) {
        self.path = path
        var st = stat()
        if stat(path, &st) != 0 {
            // keepalived asks for 0644 under its 0177 umask: 0600 is what results.
            guard mkfifo(path, 0o600) == 0 else { throw .unavailable("notify_fifo \(path): mkfifo: \(String(cString: strerror(errno)))") }
        } else if st.st_mode & S_IFMT != S_IFIFO {
            throw .unavailable("notify_fifo \(path) exists and is not a FIFO")
        }
        let fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .unavailable("notify_fifo \(path): \(String(cString: strerror(errno)))") }
        descriptor = fd
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Closes our end: we are the FIFO's only writer, so the reader sees end-of-file
    /// once it has read every line, and can end by itself.
    func finishWriting() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    static func line(_ kind: String, name: String, state: String, priority: Int) -> String {
        "\(kind) \"\(name)\" \(state) \(priority)\n"
    }

    /// False when the line was lost (no room in the pipe).
    @discardableResult
    func write(_ kind: String, name: String, state: String, priority: Int) -> Bool {
        guard descriptor >= 0 else { dropped += 1; return false }
        let bytes = Array(Self.line(kind, name: name, state: state, priority: priority).utf8)
        // Lines are far below PIPE_BUF, so a write is whole or nothing.
        let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if n != bytes.count { dropped += 1; return false }
        return true
    }
}
