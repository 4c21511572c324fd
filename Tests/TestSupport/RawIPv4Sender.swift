import Foundation
import Netlink

/// Sends hand-built IPv4 packets (any TTL, any source) from inside a namespace, to play a
/// hostile or misconfigured VRRP peer. IPPROTO_RAW implies IP_HDRINCL; the kernel fills
/// in the header checksum, the ID and the total length.
public final class RawIPv4Sender: @unchecked Sendable {
    let descriptor: Int32

    public init(namespace: String, interface: String) throws {
        descriptor = try NetworkNamespace.run(named: namespace) { () throws -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
            guard fd >= 0 else { throw TestSetupError("socket(IPPROTO_RAW): \(errno)") }
            let rc = interface.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
            guard rc == 0 else { close(fd); throw TestSetupError("SO_BINDTODEVICE \(interface): \(errno)") }
            return fd
        }
    }

    deinit { close(descriptor) }

    /// `source` and `destination` are 4 network-order bytes.
    public func send(source: [UInt8], destination: [UInt8], ttl: UInt8, protocolNumber: UInt8 = 112, payload: [UInt8]) throws {
        let total = 20 + payload.count
        var packet: [UInt8] = [0x45, 0xc0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0, 0, ttl, protocolNumber, 0, 0]
        packet += source + destination + payload
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = UInt32(destination[0]) | UInt32(destination[1]) << 8 | UInt32(destination[2]) << 16 | UInt32(destination[3]) << 24
        // Seen once in a few runs: ENODEV from the route lookup of a freshly set up veth,
        // gone on the next try. A bounded retry keeps the test about the daemon.
        var attempts = 0
        while true {
            let n = packet.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if n >= 0 { return }
            let e = errno
            attempts += 1
            guard e == ENODEV && attempts < 5 else { throw TestSetupError("sendto: \(String(cString: strerror(e)))") }
            usleep(50_000)
        }
    }
}
