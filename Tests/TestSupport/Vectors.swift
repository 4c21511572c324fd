#if canImport(Glibc)
import Glibc
#endif
import Netlink

/// One capture from scripts/capture-vectors.sh: the datagrams conntrack(8) sent and
/// received, and what it printed.
public struct CapturedExchange: Sendable {
    public var name: String
    public var sent: [[UInt8]]
    public var received: [[UInt8]]
    public var stdout: [String]
    public var stderr: [String]

    /// Each message of each sent datagram, as its own byte array.
    public var sentMessages: [[UInt8]] { sent.flatMap(Self.split) }
    public var receivedMessages: [[UInt8]] { received.flatMap(Self.split) }

    static func split(_ datagram: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var reader = MessageReader(datagram)
        while let m = reader.next() {
            out.append(Array(datagram[(m.payload.lowerBound - NetlinkHeader.size)..<m.payload.upperBound]))
        }
        return out
    }
}

public enum Vectors {
    /// Tests/ConntrackTests/Vectors, found from this file's own path.
    public static var directory: String {
        let me = #filePath
        let tests = me.split(separator: "/").dropLast(2).joined(separator: "/")
        return "/" + tests + "/ConntrackTests/Vectors"
    }

    public static func load(_ name: String) -> CapturedExchange {
        let hex = readText("\(directory)/\(name).hex")
        var sent: [[UInt8]] = []
        var received: [[UInt8]] = []
        for line in hex.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            let bytes = decodeHex(parts[1])
            if parts[0] == "send" { sent.append(bytes) } else { received.append(bytes) }
        }
        func lines(_ s: String) -> [String] { s.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        return CapturedExchange(
            name: name, sent: sent, received: received,
            stdout: lines(readText("\(directory)/\(name).stdout")),
            stderr: lines(readText("\(directory)/\(name).stderr")))
    }

    public static var names: [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasSuffix(".hex") { names.append(String(name.dropLast(4))) }
        }
        return names.sorted()
    }

    public static func readText(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decodeHex(_ s: Substring) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 2)
        var high: UInt8?
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            default: continue
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }
}
