#if canImport(Glibc)
import Glibc
#endif
import IPAddressing
import VRRP

/// Sends keepalived-style gratuitous ARPs and unsolicited Neighbour Advertisements on
/// one interface through an AF_PACKET socket (frames built here, as keepalived does).
public final class GratuitousARPSender {
    public let descriptor: Int32
    public let interfaceIndex: Int32
    public let mac: [UInt8]

    public enum SenderError: Error, CustomStringConvertible {
        case system(String, Int32)
        public var description: String {
            switch self { case .system(let what, let e): "\(what): \(String(cString: strerror(e)))" }
        }
    }

    public init(interface: String) throws(SenderError) {
        // Protocol 0: send only, so no frame is ever queued for this socket to read.
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket(AF_PACKET)", errno) }
        let index = if_nametoindex(interface)
        guard index != 0 else { close(fd); throw .system("interface \(interface)", ENODEV) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, b) in interface.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        guard ioctl(fd, UInt(SIOCGIFHWADDR), &request) == 0 else {
            let e = errno
            close(fd)
            throw .system("SIOCGIFHWADDR \(interface)", e)
        }
        let hw = withUnsafeBytes(of: request.ifr_ifru.ifru_hwaddr.sa_data) { Array($0.prefix(6)) }
        descriptor = fd
        interfaceIndex = Int32(index)
        mac = hw
    }

    deinit { close(descriptor) }

    /// A GARP for an IPv4 address, an unsolicited NA for an IPv6 one.
    public func announce(_ address: IPAddress, router: Bool = false) throws(SenderError) {
        if address.family == AddressFamily.inet6 {
            try transmit(NeighbourAdvertisement.frame(mac: mac, address: address, router: router), protocol: 0x86dd,
                         to: [0x33, 0x33, 0, 0, 0, 1])
        } else {
            try transmit(GratuitousARP.frame(mac: mac, address: address), protocol: 0x0806, to: [UInt8](repeating: 0xff, count: 6))
        }
    }

    private func transmit(_ frame: [UInt8], protocol type: UInt16, to destination: [UInt8]) throws(SenderError) {
        // sockaddr_ll: family, protocol (BE), ifindex, hatype, pkttype, halen, addr[8]
        var link = [UInt8](repeating: 0, count: 20)
        link[0] = UInt8(AF_PACKET & 0xff)
        link[2] = UInt8(type >> 8); link[3] = UInt8(type & 0xff)
        withUnsafeBytes(of: interfaceIndex) { for i in 0..<4 { link[4 + i] = $0[i] } }
        link[11] = 6
        for i in 0..<6 { link[12 + i] = destination[i] }
        let sent = frame.withUnsafeBytes { payload in
            link.withUnsafeMutableBytes { raw in
                raw.withMemoryRebound(to: sockaddr.self) { sendto(descriptor, payload.baseAddress, payload.count, 0, $0.baseAddress, 20) }
            }
        }
        if sent < 0 { throw .system(type == 0x0806 ? "sendto(GARP)" : "sendto(NA)", errno) }
    }
}
