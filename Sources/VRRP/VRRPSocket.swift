#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// A raw IPv4 socket for VRRP (protocol 112) on one interface: sends adverts with TTL 255
/// and TOS 0xC0 as keepalived does, receives them with their IP header.
public final class VRRPSocket {
    public let descriptor: Int32

    public init(interface: String, source: IPAddress, multicast: Bool) throws(GratuitousARPSender.SenderError) {
        guard case .v4(let src) = source else { throw .system("VRRP over IPv6 is not supported yet", EAFNOSUPPORT) }
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 112)
        guard fd >= 0 else { throw .system("socket(IPPROTO_VRRP)", errno) }
        descriptor = fd
        func option(_ level: Int32, _ name: Int32, _ value: Int32) {
            var v = value
            setsockopt(fd, level, name, &v, socklen_t(4))
        }
        let bound = interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
        if bound != 0 { throw .system("SO_BINDTODEVICE \(interface)", errno) }
        option(Int32(IPPROTO_IP), IP_TTL, 255)
        option(Int32(IPPROTO_IP), IP_TOS, 0xc0)
        option(Int32(IPPROTO_IP), IP_MULTICAST_TTL, 255)
        option(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = multicast ? 0 : src.bigEndian
        let rc = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw .system("bind \(source)", errno) }
        if multicast {
            var m = ip_mreqn()
            m.imr_multiaddr.s_addr = UInt32(0xe000_0012).bigEndian
            m.imr_ifindex = Int32(if_nametoindex(interface))
            if setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreqn>.size)) != 0 {
                throw .system("IP_ADD_MEMBERSHIP", errno)
            }
            var source = in_addr(s_addr: src.bigEndian)
            setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &source, socklen_t(MemoryLayout<in_addr>.size))
        }
    }

    deinit { close(descriptor) }

    public func send(_ message: [UInt8], to destination: IPAddress) throws(GratuitousARPSender.SenderError) {
        guard case .v4(let d) = destination else { throw .system("send", EAFNOSUPPORT) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = d.bigEndian
        let n = message.withUnsafeBytes { raw in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        if n < 0 { throw .system("sendto(VRRP)", errno) }
    }

    /// Every packet waiting, IP header included.
    public func receiveAll() -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let n = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n <= 0 { break }
            out.append(Array(buffer[0..<n]))
        }
        return out
    }
}
