#if canImport(Glibc)
import Glibc
#endif

/// Corpus files: every regular file of the directories given (not recursive), sorted by
/// name so a replay is repeatable.
public enum CorpusFiles {
    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        public var description: String { "\(path): \(String(cString: strerror(errno)))" }
    }

    public static func inputs(_ paths: [String]) throws(ReadError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for p in paths {
            for f in try files(p) { out.append(try read(f)) }
        }
        return out
    }

    /// The path itself if it is a file, else the files in it.
    public static func files(_ path: String) throws(ReadError) -> [String] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ReadError(path: path, errno: errno) }
        guard st.st_mode & S_IFMT == S_IFDIR else { return [path] }
        guard let dir = opendir(path) else { throw ReadError(path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(".") { continue }
            let full = path + "/" + name
            var s = stat()
            if stat(full, &s) == 0, s.st_mode & S_IFMT == S_IFREG { names.append(full) }
        }
        return names.sorted()
    }

    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, errno: errno) }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 { if errno == EINTR { continue }; throw ReadError(path: path, errno: errno) }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}

extension CorpusFiles {
    /// The names of the directories in `path`.
    public static func directories(_ path: String) throws(ReadError) -> [String] {
        guard let dir = opendir(path) else { throw ReadError(path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var s = stat()
            if !name.hasPrefix("."), stat(path + "/" + name, &s) == 0, s.st_mode & S_IFMT == S_IFDIR { names.append(name) }
        }
        return names.sorted()
    }
}
