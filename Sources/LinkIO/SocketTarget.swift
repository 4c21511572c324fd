#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// A socket address of either family: where a datagram link sends, and what a received
/// datagram's source is checked against (conntrackd's UDP links run over IPv4 or IPv6).
struct SocketTarget {
    private(set) var storage = sockaddr_storage()
    let length: socklen_t
    let family: Int32

    init(_ address: IPAddress, port: UInt16, scope: UInt32 = 0) {
        switch address {
        case .v4(let a):
            var s = ChannelSocket.address(a, port: port)
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
            withUnsafeMutableBytes(of: &storage) { out in withUnsafeBytes(of: &s) { out.copyMemory(from: $0) } }
        case .v6:
            var s = VRRPSocket.socketAddress(address, scope: scope)
            s.sin6_port = port.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
            withUnsafeMutableBytes(of: &storage) { out in withUnsafeBytes(of: &s) { out.copyMemory(from: $0) } }
        }
    }

    func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
    }

    /// The address bytes (4 or 16) of a socket address of this family.
    static func addressBytes(of s: sockaddr_storage, family: Int32) -> [UInt8] {
        var s = s
        return withUnsafeBytes(of: &s) { raw in
            family == AF_INET ? Array(raw[4 ..< 8]) : Array(raw[8 ..< 24])
        }
    }

    /// Whether `source` (from recvfrom) is this target's address, whatever its port.
    func isSameAddress(as source: sockaddr_storage) -> Bool {
        Int32(source.ss_family) == family && Self.addressBytes(of: source, family: family) == Self.addressBytes(of: storage, family: family)
    }

    /// The first four address bytes of `source`, for the "foreign datagram" log line.
    static func firstWord(of source: sockaddr_storage) -> UInt32 {
        let bytes = addressBytes(of: source, family: Int32(source.ss_family) == AF_INET6 ? AF_INET6 : AF_INET)
        return bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}
