#if canImport(Glibc)
import Glibc
#endif

/// Where a command writes. The real one writes straight to fds 1 and 2 (unbuffered, so
/// `-E` lines reach a pipe at once); tests capture into strings.
public protocol OutputSink: AnyObject {
    func out(_ line: String)
    func err(_ line: String)
}

public final class StandardOutput: OutputSink {
    public init() {}
    public func out(_ line: String) { write(1, line + "\n") }
    public func err(_ line: String) { write(2, line + "\n") }

    private func write(_ fd: Int32, _ s: String) {
        var bytes = Array(s.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }
}

public final class CapturedOutput: OutputSink {
    public private(set) var stdout: [String] = []
    public private(set) var stderr: [String] = []
    public init() {}
    public func out(_ line: String) { stdout.append(line) }
    public func err(_ line: String) { stderr.append(line) }
}
