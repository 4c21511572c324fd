@testable import Daemon
import Testing
import Timekeeping

/// The control socket's 4-byte request gathered across reads, without a socket.
@Suite struct ControlRequestAssemblyTests {
    static let start = Instant(nanoseconds: 1_000_000_000)
    static func bytes(_ code: Int32) -> [UInt8] { withUnsafeBytes(of: code) { Array($0) } }

    @Test func requestInPiecesCompletesWithItsCode() {
        var a = ControlRequestAssembly(acceptedAt: Self.start)
        let raw = Self.bytes(21)
        #expect(a.take(count: 1, of: [raw[0]], error: 0, now: Self.start) == .waiting)
        #expect(a.missing == 3)
        #expect(a.take(count: 3, of: Array(raw[1...]), error: 0, now: Self.start) == .complete(21))
    }

    /// A read that returns more than asked (it cannot, but a hostile caller could pass a
    /// longer chunk) takes only the request's bytes.
    @Test func bytesBeyondTheRequestAreNotTaken() {
        var a = ControlRequestAssembly(acceptedAt: Self.start)
        #expect(a.take(count: 8, of: Self.bytes(200) + [9, 9, 9, 9], error: 0, now: Self.start) == .complete(200))
        #expect(a.bytes.count == 4)
    }

    @Test func closeTimeoutAndErrorsAreTyped() {
        var closed = ControlRequestAssembly(acceptedAt: Self.start)
        #expect(closed.take(count: 0, of: [], error: 0, now: Self.start) == .failed(.closedEarly))
        var short = ControlRequestAssembly(acceptedAt: Self.start)
        _ = short.take(count: 2, of: [1, 0], error: 0, now: Self.start)
        #expect(short.take(count: 0, of: [], error: 0, now: Self.start) == .failed(.short(2)))
        var silent = ControlRequestAssembly(acceptedAt: Self.start)
        // EAGAIN within the second waits (the control); after it, the client is dropped.
        #expect(silent.take(count: -1, of: [], error: 11, now: Self.start + .milliseconds(999)) == .waiting)
        #expect(silent.take(count: -1, of: [], error: 11, now: Self.start + .seconds(1)) == .failed(.timedOut(0)))
        var broken = ControlRequestAssembly(acceptedAt: Self.start)
        #expect(broken.take(count: -1, of: [], error: 104, now: Self.start) == .failed(.readFailed(104)))
    }
}
