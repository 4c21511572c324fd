#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// Who may speak on a multicast link. conntrackd's Multicast block names no peer, only
/// the group and the local interface, so the peer is whoever is on that interface's
/// subnet(s) — but never this node itself (a datagram with our own source address, which
/// multicast loop is off for, is somebody pretending to be us). Datagrams from anywhere
/// else are refused before they are read. Without a key a host on the same subnet cannot
/// be told from the peer: docs/sync-hardening.md says so.
public struct MulticastSourceCheck: Hashable, Sendable {
    public struct Subnet: Hashable, Sendable {
        public var address: IPAddress
        public var prefix: Int
        public init(address: IPAddress, prefix: Int) {
            self.address = address
            self.prefix = prefix
        }

        public func contains(_ a: IPAddress) -> Bool {
            guard a.family == address.family else { return false }
            let mask = IPAddress.mask(family: a.family, prefix: prefix)
            return a.masked(by: mask) == address.masked(by: mask)
        }
    }

    public let subnets: [Subnet]

    public init(subnets: [Subnet]) { self.subnets = subnets }

    public func admits(_ source: IPAddress) -> Bool {
        subnets.contains { $0.contains(source) } && !subnets.contains { $0.address == source }
    }

    /// The subnets of `interface`'s addresses of `family` (AF_INET, AF_INET6).
    static func subnets(of interface: String, family: Int32) -> [Subnet] {
        InterfaceAddressList.read().filter { $0.interface == interface && Int32($0.subnet.address.family) == family }.map(\.subnet)
    }

    /// The interface holding `address`, for an IPv4 link configured without `Interface`.
    static func interface(holding address: IPAddress) -> String? {
        InterfaceAddressList.read().first { $0.subnet.address == address }?.interface
    }
}

/// The host's addresses with their prefixes (getifaddrs), read when a link opens.
enum InterfaceAddressList {
    static func read() -> [(interface: String, subnet: MulticastSourceCheck.Subnet)] {
        var out: [(String, MulticastSourceCheck.Subnet)] = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let e = p {
            defer { p = e.pointee.ifa_next }
            guard let a = e.pointee.ifa_addr, let m = e.pointee.ifa_netmask,
                  let address = socketAddress(a), let mask = socketAddress(m) else { continue }
            let prefix = mask.bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            out.append((String(cString: e.pointee.ifa_name), .init(address: address, prefix: prefix)))
        }
        return out
    }

    static func socketAddress(_ a: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        switch Int32(a.pointee.sa_family) {
        case AF_INET:
            return .v4(a.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) })
        case AF_INET6:
            return a.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                withUnsafeBytes(of: p.pointee.sin6_addr) { IPAddress(bytes: ArraySlice($0)) }
            }
        default:
            return nil
        }
    }
}

extension SocketTarget {
    /// The address of a socket address from recvfrom/accept, either family.
    static func ipAddress(of source: sockaddr_storage) -> IPAddress? {
        let family = Int32(source.ss_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        return IPAddress(bytes: ArraySlice(addressBytes(of: source, family: family)))
    }
}
