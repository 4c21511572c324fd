#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// Reads a firewall's IPv4 addresses with an rtnetlink dump from a socket made inside its
/// namespace (a socket keeps its namespace for life, so any thread can use it later).
final class AddressProbe {
    static let getAddress: UInt16 = 22
    static let newAddress: UInt16 = 20
    private static let ifaLocal: UInt16 = 2

    let namespace: String
    private let socket: NetlinkSocket
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(namespace: String) throws(LabError) {
        self.namespace = namespace
        do {
            socket = try NetworkNamespace.run(named: namespace) { try NetlinkSocket(protocol: NetlinkProtocol.route) }
        } catch {
            throw .socket("rtnetlink socket in \(namespace)", errno: 0)
        }
    }

    /// Dotted IPv4 addresses configured in the namespace.
    func addresses() throws(LabError) -> Set<String> {
        var request = MessageBatch()
        request.append(type: Self.getAddress, flags: [.request, .dump], sequence: socket.makeSequence()) { e in
            e.bytes += [UInt8(AF_INET), 0, 0, 0, 0, 0, 0, 0]
        }
        var found = Set<String>()
        do {
            try socket.dump(request, buffer: &buffer, timeoutMilliseconds: 2000) { bytes, m in
                guard m.header.type == Self.newAddress else { return }
                var o = m.payload.lowerBound + 8
                while o + 4 <= m.payload.upperBound {
                    let length = Int(bytes[o]) | Int(bytes[o + 1]) << 8
                    let type = (UInt16(bytes[o + 2]) | UInt16(bytes[o + 3]) << 8) & AttributeFlag.typeMask
                    guard length >= 4, o + length <= m.payload.upperBound else { break }
                    if type == Self.ifaLocal && length == 8 {
                        found.insert("\(bytes[o + 4]).\(bytes[o + 5]).\(bytes[o + 6]).\(bytes[o + 7])")
                    }
                    o += netlinkAlign(length)
                }
            }
        } catch {
            throw .socket("address dump in \(namespace): \(error)", errno: 0)
        }
        return found
    }

    /// Which of the two VIPs the firewall holds.
    func virtualAddresses() throws(LabError) -> VIPHolding {
        let a = try addresses()
        return VIPHolding(lan: a.contains(SeedAddressing.lanVIP), wan: a.contains(SeedAddressing.wanVIP))
    }
}

struct VIPHolding: Equatable, Sendable {
    var lan: Bool
    var wan: Bool
    var both: Bool { lan && wan }
    var none: Bool { !lan && !wan }
    var description: String { both ? "both VIPs" : none ? "no VIP" : lan ? "LAN VIP only" : "WAN VIP only" }
}
