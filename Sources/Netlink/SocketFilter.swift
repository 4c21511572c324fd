#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// One classic BPF instruction, as the kernel runs it on each message a socket receives.
public struct BPFInstruction: Hashable, Sendable {
    public var code: UInt16
    public var jumpIfTrue: UInt8
    public var jumpIfFalse: UInt8
    public var k: UInt32

    public init(code: UInt16, jumpIfTrue: UInt8 = 0, jumpIfFalse: UInt8 = 0, k: UInt32 = 0) {
        self.code = code
        self.jumpIfTrue = jumpIfTrue
        self.jumpIfFalse = jumpIfFalse
        self.k = k
    }
}

extension NetlinkSocket {
    /// Has the kernel run `program` on every message for this socket: a message the
    /// program returns 0 for is never queued, never read, never decoded.
    public func attachFilter(_ program: [BPFInstruction]) throws(NetlinkSocketError) {
        let code = program.map { sock_filter(code: $0.code, jt: $0.jumpIfTrue, jf: $0.jumpIfFalse, k: $0.k) }
        let rc = code.withUnsafeBufferPointer { clinux_attach_filter(descriptor, $0.baseAddress, UInt16(code.count)) }
        if rc != 0 { throw NetlinkSocketError.systemCall("SO_ATTACH_FILTER", errno: errno) }
    }
}
