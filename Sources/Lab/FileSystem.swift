#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the lab needs, on Glibc alone (the tandem binary does not link
/// Foundation).
enum FileSystem {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }

    static func makeDirectories(_ path: String) throws(LabError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw .file("create directory", path: current, errno: errno)
            }
        }
    }

    static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(LabError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .file("write", path: path, errno: errno) }
        defer { close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .file("write", path: path, errno: errno)
            }
            bytes = bytes.dropFirst(n)
        }
        fchmod(fd, mode)
    }

    /// Why `path` could not be written, or nil if it can: opened for writing without
    /// truncating, and removed again if this made it.
    static func writeProblem(_ path: String) -> Int32? {
        let existed = exists(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return errno }
        close(fd)
        if !existed { unlink(path) }
        return nil
    }

    /// The file's text, or nil if it cannot be read (the lab reads logs that may not exist yet).
    static func read(_ path: String, limit: Int = 64 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while data.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func symlink(_ target: String, at path: String) throws(LabError) {
        unlink(path)
        if Glibc.symlink(target, path) != 0 { throw .file("create link", path: path, errno: errno) }
    }

    /// rm -r without following symbolic links out of the tree.
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for c in directoryEntries(path) { removeTree(path + "/" + c) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// The running executable, so the lab starts the same Tandem that runs it.
    static func currentExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
