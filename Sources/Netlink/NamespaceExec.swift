#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// Starts this program again inside a named network namespace, as keepalived's
/// net_namespace / -s put the whole daemon there. setns moves only the calling thread, so
/// a thread of its own joins the namespace and then execs: the new image has that one
/// thread, in that namespace, under the same pid. Returns only on failure.
public enum NamespaceExec {
    public enum Failure: Error, CustomStringConvertible {
        case cannotOpen(String, errno: Int32)
        case setns(errno: Int32)
        case exec(errno: Int32)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let e): "Failed to open \(path) (\(String(cString: strerror(e))))"
            case .setns(let e): "setns() failed with error \(e)"
            case .exec(let e): "cannot start again inside the namespace: \(String(cString: strerror(e)))"
            }
        }
    }

    public static func reexec(into name: String, arguments: [String], marker: String) -> Failure {
        let path = "/run/netns/\(name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .cannotOpen(path, errno: errno) }
        defer { close(fd) }
        setenv(marker, name, 1)
        let job = ExecJob(fd: fd, arguments: arguments)
        let unmanaged = Unmanaged.passRetained(job)
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            let job = Unmanaged<ExecJob>.fromOpaque(context!).takeRetainedValue()
            guard clinux_setns(job.fd, CLINUX_CLONE_NEWNET) == 0 else {
                job.failure = .setns(errno: errno)
                return nil
            }
            var argv: [UnsafeMutablePointer<CChar>?] = job.arguments.map { strdup($0) } + [nil]
            execv("/proc/self/exe", &argv)
            job.failure = .exec(errno: errno)
            for p in argv { free(p) }
            return nil
        }, unmanaged.toOpaque())
        guard rc == 0 else {
            unmanaged.release()
            return .exec(errno: rc)
        }
        pthread_join(thread, nil)
        unsetenv(marker)
        return job.failure ?? .exec(errno: 0)
    }
}

/// What the exec thread needs; the caller joins it before reading the failure.
private final class ExecJob: @unchecked Sendable {
    let fd: Int32
    let arguments: [String]
    var failure: NamespaceExec.Failure?
    init(fd: Int32, arguments: [String]) {
        self.fd = fd
        self.arguments = arguments
    }
}
