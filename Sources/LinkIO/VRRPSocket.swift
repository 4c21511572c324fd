#if canImport(Glibc)
import Glibc
#endif
import IPAddressing
import VRRP

/// A raw VRRP socket (protocol 112) on one interface, IPv4 or IPv6 by the source address.
/// Adverts leave with TTL / hop limit 255 and TOS / traffic class 0xC0 as keepalived's do.
/// IPv4 delivers the header; IPv6 does not, so the hop limit and destination come from
/// ancillary data and the packet is rebuilt as an `IPPacket` either way.
public final class VRRPSocket {
    public let descriptor: Int32
    public let family: Int32
    let interfaceIndex: UInt32

    /// Linux UAPI values Glibc does not export (in6.h / ipv6.h).
    enum IPv6Option {
        static let unicastHops: Int32 = 16
        static let multicastIF: Int32 = 17
        static let multicastHops: Int32 = 18
        static let multicastLoop: Int32 = 19
        static let joinGroup: Int32 = 20
        static let receivePacketInfo: Int32 = 49
        static let packetInfo: Int32 = 50
        static let receiveHopLimit: Int32 = 51
        static let hopLimit: Int32 = 52
        static let trafficClass: Int32 = 67
    }

    /// `authenticationHeader`: keepalived's AH mode, IPv4 only. Adverts then arrive as
    /// protocol 51, and leave as whole packets built by the caller (IP_HDRINCL), because
    /// the ICV covers the IP header's identification field, which the kernel would choose.
    /// `unicastTTL`: keepalived's unicast_ttl, the TTL (hop limit) of unicast adverts.
    public init(interface: String, source: IPAddress, multicast: Bool, authenticationHeader: Bool = false,
                unicastTTL: UInt8 = 255, group: IPAddress? = nil) throws(GratuitousARPSender.SenderError) {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw .system("interface \(interface)", ENODEV) }
        interfaceIndex = index
        family = source.family == AddressFamily.inet6 ? AF_INET6 : AF_INET
        if authenticationHeader && family != AF_INET { throw .system("AH authentication over IPv6", EAFNOSUPPORT) }
        let proto: Int32 = authenticationHeader ? Int32(AuthenticationHeader.protocolNumber) : 112
        let fd = socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), proto)
        guard fd >= 0 else { throw .system("socket(IPPROTO_VRRP)", errno) }
        descriptor = fd
        do throws(GratuitousARPSender.SenderError) {
            let joined = group ?? (source.family == AddressFamily.inet6 ? Advertisement.groupV6 : Advertisement.groupV4)
            try configure(interface: interface, source: source, multicast: multicast, unicastTTL: Int32(unicastTTL), group: joined)
            if authenticationHeader { option(Int32(IPPROTO_IP), IP_HDRINCL, 1) }
        } catch {
            close(fd)
            throw error
        }
    }

    private func option(_ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        setsockopt(descriptor, level, name, &v, socklen_t(4))
    }

    private func configure(interface: String, source: IPAddress, multicast: Bool, unicastTTL: Int32, group: IPAddress) throws(GratuitousARPSender.SenderError) {
        let fd = descriptor
        let bound = interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
        if bound != 0 { throw .system("SO_BINDTODEVICE \(interface)", errno) }
        switch source {
        case .v4(let src):
            option(Int32(IPPROTO_IP), IP_TTL, multicast ? 255 : unicastTTL)
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
                if case .v4(let g) = group { m.imr_multiaddr.s_addr = g.bigEndian }
                m.imr_ifindex = Int32(interfaceIndex)
                if setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreqn>.size)) != 0 {
                    throw .system("IP_ADD_MEMBERSHIP", errno)
                }
                var s = in_addr(s_addr: src.bigEndian)
                setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &s, socklen_t(MemoryLayout<in_addr>.size))
            }
        case .v6:
            let level = Int32(IPPROTO_IPV6)
            option(level, IPv6Option.unicastHops, multicast ? 255 : unicastTTL)
            option(level, IPv6Option.multicastHops, 255)
            option(level, IPv6Option.multicastLoop, 0)
            option(level, IPv6Option.trafficClass, 0xc0)
            option(level, IPv6Option.receiveHopLimit, 1)
            option(level, IPv6Option.receivePacketInfo, 1)
            option(level, IPv6Option.multicastIF, Int32(interfaceIndex))
            // The checksum is computed here, not by the kernel (no IPV6_CHECKSUM), so a bad
            // one reaches the receive filter and is counted instead of vanishing; that needs
            // a fixed source address, hence the bind to the (link-local) source.
            var local = Self.socketAddress(source, scope: interfaceIndex)
            let rc = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
            if rc != 0 { throw .system("bind \(source)", errno) }
            if multicast {
                // ipv6_mreq: the group, then the interface index.
                var m = [UInt8](repeating: 0, count: 20)
                for (k, b) in group.bytes.enumerated() { m[k] = b }
                withUnsafeBytes(of: interfaceIndex) { for k in 0..<4 { m[16 + k] = $0[k] } }
                if setsockopt(fd, level, IPv6Option.joinGroup, m, socklen_t(20)) != 0 { throw .system("IPV6_JOIN_GROUP", errno) }
            }
        }
    }

    static func socketAddress(_ address: IPAddress, scope: UInt32) -> sockaddr_in6 {
        var s = sockaddr_in6()
        s.sin6_family = sa_family_t(AF_INET6)
        withUnsafeMutableBytes(of: &s.sin6_addr) { raw in for (k, b) in address.bytes.enumerated() { raw[k] = b } }
        // Only link-local and multicast link-scope addresses need the interface.
        let b = address.bytes
        if (b[0] == 0xfe && b[1] & 0xc0 == 0x80) || (b[0] == 0xff && b[1] & 0x0f == 2) { s.sin6_scope_id = scope }
        return s
    }

    deinit { close(descriptor) }

    public func send(_ message: [UInt8], to destination: IPAddress) throws(GratuitousARPSender.SenderError) {
        let n: Int
        switch destination {
        case .v4(let d):
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_addr.s_addr = d.bigEndian
            n = message.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        case .v6:
            var target = Self.socketAddress(destination, scope: interfaceIndex)
            n = message.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
        }
        if n < 0 { throw .system("sendto(VRRP)", errno) }
    }

    /// Every IPv4 packet waiting, IP header included.
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

    /// Every packet waiting, as IP packets; one that cannot be read is a typed error.
    public func receivePackets() -> [Result<IPPacket, VRRPPacketError>] {
        if family == AF_INET {
            return receiveAll().map { raw in Result { () throws(VRRPPacketError) in try IPPacket.ipv4(raw) } }
        }
        var out: [Result<IPPacket, VRRPPacketError>] = []
        while let r = receiveIPv6() { out.append(r) }
        return out
    }

    private func receiveIPv6() -> Result<IPPacket, VRRPPacketError>? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var control = [UInt8](repeating: 0, count: 256)
        var from = sockaddr_in6()
        let (n, controlLength): (Int, Int) = buffer.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                withUnsafeMutablePointer(to: &from) { name in
                    var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                    return withUnsafeMutablePointer(to: &iov) { iovp in
                        var m = msghdr()
                        m.msg_name = UnsafeMutableRawPointer(name)
                        m.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
                        m.msg_iov = iovp
                        m.msg_iovlen = 1
                        m.msg_control = ctl.baseAddress
                        m.msg_controllen = ctl.count
                        let r = recvmsg(descriptor, &m, Int32(MSG_DONTWAIT))
                        return (r, Int(m.msg_controllen))
                    }
                }
            }
        }
        guard n >= 0 else { return nil }
        let length = n
        let source = withUnsafeBytes(of: from.sin6_addr) { IPAddress(bytes: ArraySlice($0))! }
        var hopLimit: UInt8?
        var destination: IPAddress?
        // cmsghdr on LP64: length (8), level (4), type (4), data; entries 8-byte aligned.
        var offset = 0
        while offset + 16 <= controlLength {
            let (len, level, type) = control.withUnsafeBytes {
                ($0.loadUnaligned(fromByteOffset: offset, as: Int.self), $0.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self),
                 $0.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self))
            }
            guard len >= 16, offset + len <= controlLength else { break }
            if level == Int32(IPPROTO_IPV6) {
                if type == IPv6Option.hopLimit, len >= 20 {
                    hopLimit = UInt8(truncatingIfNeeded: control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 16, as: Int32.self) })
                } else if type == IPv6Option.packetInfo, len >= 36 {
                    destination = IPAddress(bytes: control[(offset + 16)..<(offset + 32)])
                }
            }
            offset += (len + 7) & ~7
        }
        guard let hopLimit, let destination else { return .failure(.badIPHeader("IPv6 packet without hop limit or destination")) }
        return .success(IPPacket(source: source, destination: destination, ttl: hopLimit, payload: Array(buffer[0..<length])))
    }
}
