#if canImport(Glibc)
import Glibc
#endif

/// A sync link's state as `conntrackd -s link` names it: DOWN (not administratively up),
/// NO-CARRIER (up, not running), RUNNING.
enum InterfaceStatus {
    static func of(_ name: String) -> String {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "DOWN" }
        defer { close(fd) }
        var request = ifreq()
        let bytes = Array(name.utf8.prefix(Int(IFNAMSIZ) - 1))
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        guard ioctl(fd, UInt(SIOCGIFFLAGS), &request) == 0 else { return "DOWN" }
        let flags = Int32(request.ifr_ifru.ifru_flags)
        if flags & Int32(IFF_UP) == 0 { return "DOWN" }
        if flags & Int32(IFF_RUNNING) == 0 { return "NO-CARRIER" }
        return "RUNNING"
    }
}
