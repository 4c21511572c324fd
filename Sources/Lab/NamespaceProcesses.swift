#if canImport(Glibc)
import Glibc
#endif

/// Finds and signals processes by PID, and only those inside the lab's own namespaces:
/// the equivalent of `ip netns pids`, checked again right before every signal so a PID
/// reused by an unrelated process is never hit.
enum NamespaceProcesses {
    /// The inode identifying a named namespace (the bind mount under /run/netns).
    static func inode(ofNamespace name: String) -> UInt64? {
        var st = stat()
        guard stat("/run/netns/" + name, &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// The network namespace inode of a process ("net:[4026532]" → 4026532).
    static func namespaceInode(of pid: pid_t) -> UInt64? {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/\(pid)/ns/net", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let open = text.firstIndex(of: "["), let close = text.firstIndex(of: "]") else { return nil }
        return UInt64(text[text.index(after: open)..<close])
    }

    static func pids(in namespace: String) -> [pid_t] {
        guard let target = inode(ofNamespace: namespace) else { return [] }
        return FileSystem.directoryEntries("/proc").compactMap { pid_t($0) }.filter { pid in
            namespaceInode(of: pid) == target && isAlive(pid)
        }
    }

    static func belongs(_ pid: pid_t, to namespaces: [String]) -> Bool {
        guard pid > 1, let own = namespaceInode(of: pid) else { return false }
        return namespaces.contains { inode(ofNamespace: $0) == own }
    }

    /// Alive and not a zombie. Reaps the process if the lab itself is its parent.
    static func isAlive(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
        guard let stat = FileSystem.read("/proc/\(pid)/stat", limit: 4096),
              let close = stat.lastIndex(of: ")") else { return false }
        let rest = stat[stat.index(after: close)...].drop(while: { $0 == " " })
        return rest.first != "Z" && rest.first != "X"
    }

    static func command(of pid: pid_t) -> String {
        (FileSystem.read("/proc/\(pid)/comm", limit: 256) ?? "?").split(separator: "\n").first.map(String.init) ?? "?"
    }

    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = FileSystem.read("/proc/\(pid)/stat", limit: 4096), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }

    /// Sends `signal` to `pid` only if it still lives in one of `namespaces`.
    @discardableResult
    static func signal(_ pid: pid_t, _ signal: Int32, ifIn namespaces: [String]) -> Bool {
        guard belongs(pid, to: namespaces) else { return false }
        return kill(pid, signal) == 0
    }

    /// SIGTERM to each, a bounded wait, then SIGKILL to whatever is left.
    static func stop(_ pids: [pid_t], in namespaces: [String], grace: Double = 5) {
        for p in pids { signal(p, SIGTERM, ifIn: namespaces) }
        let deadline = WallClock.now() + grace
        while pids.contains(where: { isAlive($0) }) && WallClock.now() < deadline { WallClock.sleep(0.05) }
        for p in pids where isAlive(p) { signal(p, SIGKILL, ifIn: namespaces) }
        let hard = WallClock.now() + 2
        while pids.contains(where: { isAlive($0) }) && WallClock.now() < hard { WallClock.sleep(0.02) }
    }

    static func readPID(_ path: String) -> pid_t? {
        FileSystem.read(path, limit: 64).flatMap { pid_t($0.split(separator: "\n").first ?? "") }
    }
}
