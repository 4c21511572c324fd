#if canImport(Glibc)
import Glibc
#endif

/// One process's footprint, from /proc: VmRSS of /proc/PID/status, the entries of
/// /proc/PID/fd, utime + stime of /proc/PID/stat.
struct ProcessSample {
    let pid: pid_t
    let rssKB: Int
    let fds: Int
    let cpuSeconds: Double

    static let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))

    init?(_ pid: pid_t) {
        guard let status = FileSystem.read("/proc/\(pid)/status", limit: 16384),
              let rssLine = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let rss = rssLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }),
              let stat = FileSystem.read("/proc/\(pid)/stat", limit: 4096), let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let fds = FileSystem.directoryEntries("/proc/\(pid)/fd").count
        guard fds > 0 else { return nil }
        self.pid = pid
        rssKB = rss
        self.fds = fds
        cpuSeconds = (user + system) / Self.ticks
    }
}

/// One JSON object, fields in the order they are added.
struct JSONObject {
    private var fields: [String] = []

    static func string(_ s: String) -> String {
        var o = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            case "\n": o += "\\n"
            default: o += u.value < 0x20 ? "\\u00" + (u.value < 16 ? "0" : "") + String(u.value, radix: 16) : String(u)
            }
        }
        return o + "\""
    }

    static func number(_ d: Double, places: Int = 3) -> String {
        guard d.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let v = (d * scale).rounded() / scale
        return v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }

    mutating func raw(_ key: String, _ json: String) { fields.append(Self.string(key) + ":" + json) }
    mutating func add(_ key: String, _ v: String?) { raw(key, v.map(Self.string) ?? "null") }
    mutating func add(_ key: String, _ v: Int?) { raw(key, v.map { String($0) } ?? "null") }
    mutating func add(_ key: String, _ v: Double?, places: Int = 3) { raw(key, v.map { Self.number($0, places: places) } ?? "null") }
    mutating func add(_ key: String, _ v: Bool) { raw(key, v ? "true" : "false") }
    mutating func add(_ key: String, strings: [String]) { raw(key, "[" + strings.map(Self.string).joined(separator: ",") + "]") }
    mutating func add(_ key: String, objects: [JSONObject]) { raw(key, "[" + objects.map(\.text).joined(separator: ",") + "]") }

    /// With `prefix` (fields already in JSON, e.g. bench/record.sh's results_meta) first.
    func text(prefix: String = "") -> String {
        "{" + ([prefix].filter { !$0.isEmpty } + fields).joined(separator: ",") + "}"
    }
    var text: String { text() }
}

/// Appends JSON lines to the results file as they happen, so an interrupted soak keeps
/// what it measured.
final class JSONLinesFile {
    private let fd: Int32
    private let prefix: String

    init(path: String, prefix: String) throws(LabError) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .file("open", path: path, errno: errno) }
        self.prefix = prefix
    }

    deinit { close(fd) }

    func append(_ o: JSONObject) {
        var bytes = Array((o.text(prefix: prefix) + "\n").utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// New lines of a daemon log since the last read (the lab's logs are appended to).
struct LogTail {
    let path: String
    private var offset: off_t = 0
    private var partial: [UInt8] = []

    init(path: String, fromEnd: Bool) {
        self.path = path
        if fromEnd {
            var st = stat()
            if stat(path, &st) == 0 { offset = st.st_size }
        }
    }

    mutating func newLines() -> [Substring] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var chunk = [UInt8](repeating: 0, count: 65536)
        var data = partial
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += chunk[0..<n]
            offset += off_t(n)
        }
        guard let last = data.lastIndex(of: 10) else {
            partial = data
            return []
        }
        partial = Array(data[(last + 1)...])
        return String(decoding: data[...last], as: UTF8.self).split(separator: "\n")
    }
}
