#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing

/// The sysctl side of promote_secondaries (SecondaryPromotion decides). Read and written
/// through /proc/sys/net, which is the daemon's namespace from its own thread.
extension KeepalivedDaemon {
    func raisePromoteSecondaries(_ c: KeepalivedConfiguration) {
        let wanted = c.instances.filter(\.promoteSecondaries).compactMap(\.interface)
        for name in promotion.want(wanted, reading: Self.promoteSecondariesValue) {
            setSysctl("ipv4/conf/\(name)/promote_secondaries", 1, owner: name)
        }
    }

    func lowerPromoteSecondaries() {
        for name in promotion.release() {
            // Gone since: nothing to put back, and nothing to report.
            guard Self.promoteSecondariesValue(name) != nil else { continue }
            setSysctl("ipv4/conf/\(name)/promote_secondaries", 0, owner: name)
        }
    }

    static func promoteSecondariesValue(_ interface: String) -> Int? {
        guard !interface.isEmpty, !interface.contains("/"), interface != ".", interface != ".." else { return nil }
        let fd = open("/proc/sys/net/ipv4/conf/\(interface)/promote_secondaries", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16)
        let n = read(fd, &bytes, bytes.count)
        guard n > 0 else { return nil }
        return Int(String(decoding: bytes[..<n].filter { $0 != UInt8(ascii: "\n") }, as: UTF8.self))
    }
}
