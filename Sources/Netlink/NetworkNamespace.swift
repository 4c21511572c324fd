#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Runs work inside a named network namespace (/run/netns/NAME) on a dedicated thread.
/// setns is per-thread on Linux; doing it on a Swift concurrency thread would leak the
/// namespace into unrelated tasks. Sockets made inside stay in that namespace for life.
public enum NetworkNamespace {
    public static func run<T>(named name: String, _ body: @escaping () throws -> T) throws -> T {
        let path = "/run/netns/\(name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NetlinkSocketError.namespaceNotFound(name, errno: errno) }
        defer { close(fd) }
        var result: Result<T, Error>?
        let box = NamespaceWork(fd: fd) { result = Result { try body() } }
        let unmanaged = Unmanaged.passRetained(box)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            let box = Unmanaged<NamespaceWork>.fromOpaque(context!).takeRetainedValue()
            if clinux_setns(box.fd, CLINUX_CLONE_NEWNET) != 0 {
                box.setnsErrno = errno
            } else {
                box.work()
            }
            return nil
        }, unmanaged.toOpaque())
        guard rc == 0 else {
            unmanaged.release()
            throw NetlinkSocketError.systemCall("pthread_create", errno: rc)
        }
        pthread_join(thread, nil)
        if box.setnsErrno != 0 { throw NetlinkSocketError.systemCall("setns", errno: box.setnsErrno) }
        return try result!.get()
    }
}

/// The closure and its outcome, handed to the namespace thread. The caller joins the
/// thread before reading it, so no two threads touch it at once.
private final class NamespaceWork: @unchecked Sendable {
    let fd: Int32
    let work: () -> Void
    var setnsErrno: Int32 = 0
    init(fd: Int32, work: @escaping () -> Void) { self.fd = fd; self.work = work }
}
