#if canImport(Glibc)
import Glibc
#endif

/// A sync link's state as `conntrackd -s link` names it: DOWN (not administratively up),
/// NO-CARRIER (up, not running), RUNNING.
public enum InterfaceStatus {
    public static func of(_ name: String) -> String {
        guard let request = query(name, UInt(SIOCGIFFLAGS)) else { return "DOWN" }
        let flags = Int32(request.ifr_ifru.ifru_flags)
        if flags & Int32(IFF_UP) == 0 { return "DOWN" }
        if flags & Int32(IFF_RUNNING) == 0 { return "NO-CARRIER" }
        return "RUNNING"
    }

    /// An interface ioctl (flags, MTU…) on a throw-away socket; nil when it fails.
    static func query(_ name: String, _ request: UInt) -> ifreq? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var r = ifreq()
        let bytes = Array(name.utf8.prefix(Int(IFNAMSIZ) - 1))
        withUnsafeMutableBytes(of: &r.ifr_ifrn.ifrn_name) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        return ioctl(fd, request, &r) == 0 ? r : nil
    }
}
