#if canImport(Glibc)
import Glibc
#endif

/// The daemon's own footprint, for `tandem status --json`: what an operator watches for a
/// leak (RSS, descriptors) without finding the pid and reading /proc by hand. A figure
/// /proc cannot give is nil (null in the document), never a guess.
struct ProcessFootprint: Encodable, Sendable {
    var pid: Int
    var uptimeSeconds: Int
    @Nullable var rssBytes: Int?
    @Nullable var openFds: Int?

    static func current(uptimeSeconds: Int) -> ProcessFootprint {
        ProcessFootprint(pid: Int(getpid()), uptimeSeconds: uptimeSeconds, rssBytes: residentBytes(), openFds: openDescriptors())
    }

    /// statm's second field is resident pages: one short line, no parsing of status's
    /// human layout.
    static func residentBytes() -> Int? {
        guard let text = read("/proc/self/statm") else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The directory stream counting them holds one descriptor itself: it is not counted.
    static func openDescriptors() -> Int? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = Glibc.read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
