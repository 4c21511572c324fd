#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// An AF_NETLINK socket. Owns its descriptor; not shared across threads (the daemon's
/// loop thread owns every socket).
public final class NetlinkSocket {
    public let descriptor: Int32
    public let netlinkProtocol: Int32
    public private(set) var portID: UInt32 = 0
    /// Receive buffer size the socket currently has, as the kernel reports it.
    public private(set) var receiveBufferSize: Int = 0
    private var nextSequence: UInt32

    public init(protocol proto: Int32, groups: UInt32 = 0) throws(NetlinkSocketError) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        guard fd >= 0 else { throw .systemCall("socket", errno: errno) }
        descriptor = fd
        netlinkProtocol = proto
        nextSequence = UInt32(truncatingIfNeeded: time(nil))
        var address = Self.address(groups: groups)
        let rc = address.withUnsafeMutableBytes { raw in
            raw.withMemoryRebound(to: sockaddr.self) { Glibc.bind(fd, $0.baseAddress, 12) }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .systemCall("bind", errno: e)
        }
        var local = [UInt8](repeating: 0, count: 12)
        var length = socklen_t(12)
        _ = local.withUnsafeMutableBytes { raw in
            raw.withMemoryRebound(to: sockaddr.self) { getsockname(fd, $0.baseAddress, &length) }
        }
        portID = UInt32(local[4]) | UInt32(local[5]) << 8 | UInt32(local[6]) << 16 | UInt32(local[7]) << 24
        receiveBufferSize = Int(getIntOption(SOL_SOCKET, SO_RCVBUF) ?? 0)
    }

    deinit { Glibc.close(descriptor) }

    public func makeSequence() -> UInt32 {
        nextSequence &+= 1
        return nextSequence
    }

    /// Reserves `count` consecutive sequence numbers and returns the first.
    public func reserveSequences(_ count: Int) -> UInt32 {
        let first = nextSequence &+ 1
        nextSequence &+= UInt32(truncatingIfNeeded: count)
        return first
    }

    // MARK: options

    public func join(group: UInt32) throws(NetlinkSocketError) {
        try setIntOption(SOL_NETLINK, NetlinkSocketOption.addMembership, Int32(bitPattern: group), "NETLINK_ADD_MEMBERSHIP")
    }

    public func leave(group: UInt32) throws(NetlinkSocketError) {
        try setIntOption(SOL_NETLINK, NetlinkSocketOption.dropMembership, Int32(bitPattern: group), "NETLINK_DROP_MEMBERSHIP")
    }

    /// Error replies then carry only the request's header, not its whole payload.
    public func enableCappedAcks() throws(NetlinkSocketError) {
        try setIntOption(SOL_NETLINK, NetlinkSocketOption.capAck, 1, "NETLINK_CAP_ACK")
    }

    public func enableExtendedAcks() throws(NetlinkSocketError) {
        try setIntOption(SOL_NETLINK, NetlinkSocketOption.extendedAck, 1, "NETLINK_EXT_ACK")
    }

    /// Extended ACKs where the kernel has them. Nothing is lost where it has not: only the
    /// kernel's error text goes, every request is still acknowledged, and a refusal still
    /// fails with its errno.
    public func enableExtendedAcksIfAvailable() {
        try? enableExtendedAcks()
    }

    /// NETLINK_BROADCAST_ERROR plus NETLINK_NO_ENOBUFS: with both, the sender of an event
    /// learns the listener could not take it (reliable delivery, as conntrackd's
    /// NetlinkEventsReliable), and the listener no longer sees ENOBUFS.
    public func setBroadcastErrors(_ on: Bool) throws(NetlinkSocketError) {
        try setIntOption(SOL_NETLINK, NetlinkSocketOption.broadcastError, on ? 1 : 0, "NETLINK_BROADCAST_ERROR")
        try setReportsOverruns(!on)
    }

    /// Asks the kernel to report dropped broadcasts (as ENOBUFS) or to hide them.
    public func setReportsOverruns(_ on: Bool) throws(NetlinkSocketError) {
        try setIntOption(SOL_NETLINK, NetlinkSocketOption.noENOBUFS, on ? 0 : 1, "NETLINK_NO_ENOBUFS")
    }

    /// Sets the receive buffer, bypassing rmem_max as root (SO_RCVBUFFORCE), falling back
    /// to SO_RCVBUF otherwise. Returns the size the kernel reports (twice the request).
    @discardableResult
    public func setReceiveBuffer(bytes: Int) throws(NetlinkSocketError) -> Int {
        let value = Int32(clamping: bytes)
        do { try setIntOption(SOL_SOCKET, SO_RCVBUFFORCE, value, "SO_RCVBUFFORCE") } catch {
            try setIntOption(SOL_SOCKET, SO_RCVBUF, value, "SO_RCVBUF")
        }
        receiveBufferSize = Int(getIntOption(SOL_SOCKET, SO_RCVBUF) ?? Int32(value))
        return receiveBufferSize
    }

    @discardableResult
    public func setSendBuffer(bytes: Int) throws(NetlinkSocketError) -> Int {
        let value = Int32(clamping: bytes)
        do { try setIntOption(SOL_SOCKET, SO_SNDBUFFORCE, value, "SO_SNDBUFFORCE") } catch {
            try setIntOption(SOL_SOCKET, SO_SNDBUF, value, "SO_SNDBUF")
        }
        return Int(getIntOption(SOL_SOCKET, SO_SNDBUF) ?? Int32(value))
    }

    public func setNonBlocking(_ on: Bool) {
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
    }

    // MARK: I/O

    /// Sends a whole buffer (one or many messages) to the kernel in one call.
    public func send(_ bytes: [UInt8]) throws(NetlinkSocketError) {
        var address = Self.address(groups: 0)
        let sent: Int = bytes.withUnsafeBytes { payload in
            address.withUnsafeMutableBytes { raw in
                raw.withMemoryRebound(to: sockaddr.self) { sa in
                    Glibc.sendto(descriptor, payload.baseAddress, payload.count, 0, sa.baseAddress, 12)
                }
            }
        }
        if sent < 0 { throw .systemCall("sendto", errno: errno) }
    }

    public enum ReceiveResult {
        case data(Int)
        /// Non-blocking socket with nothing to read.
        case wouldBlock
    }

    /// Receives one datagram into `buffer`. ENOBUFS becomes `.overrun`; MSG_TRUNC becomes
    /// `.truncated`. Both are errors the caller must act on, never silent.
    public func receive(into buffer: inout [UInt8]) throws(NetlinkSocketError) -> ReceiveResult {
        while true {
            var flags: Int32 = 0
            let n: Int = buffer.withUnsafeMutableBytes { raw in
                var iov = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
                return withUnsafeMutablePointer(to: &iov) { iovPointer in
                    var message = msghdr()
                    message.msg_iov = iovPointer
                    message.msg_iovlen = 1
                    let r = recvmsg(descriptor, &message, 0)
                    flags = message.msg_flags
                    return r
                }
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
                if e == ENOBUFS { throw .overrun }
                throw .systemCall("recvmsg", errno: e)
            }
            if flags & Int32(MSG_TRUNC) != 0 { throw .truncated(received: n, buffer: buffer.count) }
            return .data(n)
        }
    }

    /// Up to `lengths.count` datagrams in one recvmmsg(2): `buffer` is cut into that many
    /// slots of `slot` bytes, datagram i lands at i·slot and its length in `lengths[i]`.
    /// A burst of broadcast events costs one system call per batch instead of one per
    /// event. Returns how many arrived (0: nothing waiting). A loss reported by the
    /// kernel after some datagrams comes with the next call.
    public func receiveBatch(into buffer: inout [UInt8], slot: Int, lengths: inout [UInt32]) throws(NetlinkSocketError) -> Int {
        let slots = min(lengths.count, buffer.count / slot, 64)
        precondition(slots > 0, "receiveBatch needs room for one slot")
        while true {
            var truncated: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { raw in
                lengths.withUnsafeMutableBufferPointer { l in
                    clinux_recv_batch(descriptor, raw.baseAddress, UInt(slot), UInt32(slots), l.baseAddress, &truncated)
                }
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { return 0 }
                if e == ENOBUFS { throw .overrun }
                throw .systemCall("recvmmsg", errno: e)
            }
            if truncated != 0 { throw .truncated(received: slot, buffer: slot) }
            return Int(n)
        }
    }

    /// Waits until readable or `timeoutMilliseconds` pass. Returns false on timeout.
    public func waitReadable(timeoutMilliseconds: Int32) -> Bool {
        Self.waitReadable([descriptor], timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Whether any of `descriptors` has input within `timeoutMilliseconds`; a signal's
    /// interruption waits again.
    public static func waitReadable(_ descriptors: [Int32], timeoutMilliseconds: Int32) -> Bool {
        var fds = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while true {
            let r = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }

    // MARK: helpers

    private static func address(groups: UInt32) -> [UInt8] {
        var a = [UInt8](repeating: 0, count: 12)
        a[0] = UInt8(AF_NETLINK & 0xff)
        a[8] = UInt8(groups & 0xff); a[9] = UInt8((groups >> 8) & 0xff)
        a[10] = UInt8((groups >> 16) & 0xff); a[11] = UInt8(groups >> 24)
        return a
    }

    private func setIntOption(_ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(NetlinkSocketError) {
        var v = value
        if setsockopt(descriptor, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw .systemCall("setsockopt(\(label))", errno: errno)
        }
    }

    private func getIntOption(_ level: Int32, _ name: Int32) -> Int32? {
        var v: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(descriptor, level, name, &v, &len) == 0 ? v : nil
    }
}
