#if canImport(Glibc)
import Glibc
#endif
import Timekeeping

/// One control client's 4-byte request, gathered across non-blocking reads. Kept apart
/// from the socket so the framing (short reads, early close, a silent client) can be
/// driven and fuzzed without one.
package struct ControlRequestAssembly: Sendable {
    package static let size = 4

    package enum Step: Hashable {
        /// The request code, in the host's byte order (conntrackd's client writes a
        /// native int).
        case complete(Int32)
        case waiting
        case failed(ControlRequestError)
    }

    package private(set) var bytes: [UInt8] = []
    package let acceptedAt: Instant

    package init(acceptedAt: Instant) { self.acceptedAt = acceptedAt }

    /// How many bytes the next read may take: never more than the request, so a client
    /// that sends more cannot make the server buffer it.
    package var missing: Int { Self.size - bytes.count }

    /// What one read(2) returned: `count` > 0 bytes (the first `count` of `chunk`), 0 for
    /// end of stream, < 0 for an error with `error` as errno.
    package mutating func take(count: Int, of chunk: [UInt8], error: Int32, now: Instant) -> Step {
        if count > 0 { bytes += chunk.prefix(min(count, missing, chunk.count)) }
        if bytes.count == Self.size {
            return .complete(bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
        }
        if count == 0 { return .failed(bytes.isEmpty ? .closedEarly : .short(bytes.count)) }
        if count < 0 && error != EAGAIN && error != EWOULDBLOCK && error != EINTR { return .failed(.readFailed(error)) }
        if now >= acceptedAt + ControlServer.requestTimeout { return .failed(.timedOut(bytes.count)) }
        return .waiting
    }
}
