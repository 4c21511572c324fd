#if canImport(Glibc)
import Glibc
#endif
import Conntrack

/// `conntrack -R FILE` / `--load-file FILE` (`-` is standard input): one command line per
/// line, as `-o save` writes them. As conntrack 1.4.7: every line is parsed before any is
/// run, only -I, -A, -U, -D and -F on the conntrack table may appear, the commands print
/// no "N flow entries" lines, and the first one that fails stops the load.
extension ConntrackTool {
    func load(file: String) -> Int32 {
        let name = file == "-" ? "/dev/stdin" : file
        guard let text = Self.readAll(name) else {
            return refuse(ConntrackUsageError("Failed to open file \(name) for reading"))
        }
        var commands: [ConntrackArguments] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let body = line.drop { $0 == " " || $0 == "\t" }
            if body.isEmpty || body.hasPrefix("#") { continue }
            do {
                commands.append(try ConntrackArguments.parse(Self.words(body)))
            } catch {
                return refuse(error)
            }
        }
        for c in commands {
            if let refused = Self.notLoadable(c) {
                return refuse(ConntrackUsageError("Cannot use command `\(refused)' with --load-file"))
            }
        }
        for c in commands {
            do {
                _ = try execute(c, quiet: true)
            } catch {
                return fail(error, c.command)
            }
        }
        return 0
    }

    /// The name conntrack gives a command that -R does not run, or nil when it runs it.
    public static func notLoadable(_ c: ConntrackArguments) -> String? {
        let expect = c.table == .expect
        switch c.command {
        case .create where !expect, .add where !expect, .update where !expect, .delete where !expect, .flush where !expect: return nil
        case .list: return expect ? "-L expect" : "-L"
        case .get: return expect ? "-G expect" : "-G"
        case .event: return expect ? "-E expect" : "-E"
        case .version: return "-V"
        case .help: return "-h"
        case .create: return "-C expect"
        case .delete: return "-D expect"
        case .flush: return "-F expect"
        case .count: return expect ? "-C expect" : "-C"
        case .stats: return expect ? "-S expect" : "-S"
        default: return "unknown"
        }
    }

    /// Splits a line into arguments as conntrack does (iptables' parser): blanks separate,
    /// double quotes group, a backslash inside quotes escapes the next character.
    public static func words(_ line: Substring) -> [String] {
        var out: [String] = []
        var current: [Character] = []
        var quoteOpen = false, escaped = false, quoted = false
        for ch in line {
            if quoteOpen {
                if escaped { current.append(ch); escaped = false; continue }
                if ch == "\\" { escaped = true; continue }
                if ch != "\"" { current.append(ch); continue }
                quoteOpen = false
            } else if ch == "\"" {
                quoteOpen = true
                quoted = true
                continue
            }
            if ch == "\"" || ch == " " || ch == "\t" || ch == "\n" || ch == "\r\n" {
                if current.isEmpty && !quoted { continue }
                out.append(String(current))
                current = []
                quoted = false
                continue
            }
            current.append(ch)
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    static func readAll(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 { return nil }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
