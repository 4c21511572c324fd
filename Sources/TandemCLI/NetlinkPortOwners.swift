#if canImport(Glibc)
import Glibc
#endif
import Conntrack
import IPAddressing

/// Finds which program owns a netlink port, for the "[USERSPACE] portid=N progname=X"
/// suffix of event lines. The port's socket inode comes from /proc/net/netlink; the
/// owner is the process holding that inode among its fds (usually pid == port). The last
/// answer is cached because a flush produces thousands of events from one port.
struct NetlinkPortOwners {
    private var last: (port: UInt32, inode: UInt64, name: String?)?

    mutating func name(ofNetlinkPort port: UInt32) -> String? {
        guard let inode = Self.inode(ofPort: port) else { return nil }
        if let last, last.port == port, last.inode == inode { return last.name }
        var name = Self.owner(pid: Int(port), inode: inode)
        if name == nil {
            for pid in Self.processIDs() where pid != Int(port) {
                if let n = Self.owner(pid: pid, inode: inode) { name = n; break }
            }
        }
        last = (port, inode, name)
        return name
    }

    static func inode(ofPort port: UInt32) -> UInt64? {
        guard let text = readFile("/proc/net/netlink") else { return nil }
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
            guard f.count >= 10, Int(f[1]) == 12, UInt32(f[2]) == port else { continue }
            return UInt64(f[9])
        }
        return nil
    }

    static func owner(pid: Int, inode: UInt64) -> String? {
        guard pid > 1, let dir = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(dir) }
        let wanted = "socket:[\(inode)]"
        var target = [CChar](repeating: 0, count: 128)
        while let entry = readdir(dir) {
            let fd = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let n = readlink("/proc/\(pid)/fd/\(fd)", &target, target.count - 1)
            guard n > 0 else { continue }
            target[n] = 0
            if String(nulTerminated: target) == wanted { return command(pid: pid) }
        }
        return nil
    }

    /// The name in /proc/PID/stat between the parentheses.
    static func command(pid: Int) -> String? {
        guard let stat = readFile("/proc/\(pid)/stat"),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"), open < close else { return nil }
        return String(stat[stat.index(after: open)..<close])
    }

    static func processIDs() -> [Int] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var pids: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let pid = Int(name), pid > 1 { pids.append(pid) }
        }
        return pids
    }

    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
