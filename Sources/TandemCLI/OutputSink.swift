#if canImport(Glibc)
import Glibc
#endif

/// Where a command writes. The real one buffers stdout (a 250k-flow listing must not cost
/// 250k write calls) and is flushed before anything goes to stderr and after each batch
/// of events; tests capture into strings.
public protocol OutputSink: AnyObject {
    func out(_ line: String)
    /// Appends one stdout line written by `body` straight into the output buffer.
    func outLine(_ body: (inout [UInt8]) -> Void)
    func err(_ line: String)
    func flush()
}

public final class StandardOutput: OutputSink {
    private var pending: [UInt8] = []
    private let limit = 1 << 16

    public init() { pending.reserveCapacity(limit + 4096) }
    deinit { flush() }

    public func out(_ line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(10)
        if pending.count >= limit { flush() }
    }

    public func outLine(_ body: (inout [UInt8]) -> Void) {
        body(&pending)
        pending.append(10)
        if pending.count >= limit { flush() }
    }

    public func err(_ line: String) {
        flush()
        var bytes = Array(line.utf8)
        bytes.append(10)
        Self.writeAll(2, bytes)
    }

    public func flush() {
        guard !pending.isEmpty else { return }
        Self.writeAll(1, pending)
        pending.removeAll(keepingCapacity: true)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
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
    public func outLine(_ body: (inout [UInt8]) -> Void) {
        var bytes: [UInt8] = []
        body(&bytes)
        stdout.append(String(decoding: bytes, as: UTF8.self))
    }
    public func err(_ line: String) { stderr.append(line) }
    public func flush() {}
}
