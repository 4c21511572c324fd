#if canImport(Glibc)
import Glibc
#endif

/// Connection label names (connlabel.conf: `BIT NAME` per line, `#` comments), the file
/// libnetfilter_conntrack 1.0.9 reads for conntrack's `-l`, `--label-add`, `--label-del`
/// and `-o labels`. A flow's labels are a little-endian bitmap of up to 128 bits, bit n
/// in byte n / 8, as ctnetlink carries them.
public struct ConnectionLabelMap: Equatable, Sendable {
    public static let defaultPath = "/etc/xtables/connlabel.conf"
    /// The kernel's label extension holds 128 bits.
    public static let bitCount = 128

    public private(set) var names: [Int: String] = [:]

    public init(names: [Int: String]) { self.names = names }

    /// Reads the file as the library does: the first name given to a bit wins, lines that
    /// are not `BIT NAME` with BIT below 128 are skipped.
    public init(text: String) {
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, let bit = Int(words[0]), bit >= 0, bit < Self.bitCount else { continue }
            if names[bit] == nil { names[bit] = String(words[1]) }
        }
    }

    /// nil with the errno when the file cannot be read.
    public static func load(path: String = defaultPath) -> Result<ConnectionLabelMap, LabelMapUnreadable> {
        guard let f = fopen(path, "r") else { return .failure(LabelMapUnreadable(errno: errno)) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return .success(ConnectionLabelMap(text: String(decoding: bytes, as: UTF8.self)))
    }

    public func bit(named name: String) -> Int? {
        names.first { $0.value == name }?.key
    }

    /// The bits set in a ctnetlink label bitmap.
    public static func bits(of bitmap: [UInt8]) -> [Int] {
        var out: [Int] = []
        for (i, byte) in bitmap.enumerated() where byte != 0 {
            for b in 0..<8 where byte & (1 << b) != 0 { out.append(i * 8 + b) }
        }
        return out
    }

    /// The 16-byte bitmap ctnetlink takes for a set of bits.
    public static func bitmap(_ bits: Set<Int>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bitCount / 8)
        for b in bits where b >= 0 && b < bitCount { out[b / 8] |= 1 << (b % 8) }
        return out
    }

    /// The names of a flow's labels, in bit order; bits the file does not name are left out.
    public func names(in bitmap: [UInt8]) -> [String] {
        Self.bits(of: bitmap).compactMap { names[$0] }
    }
}

public struct LabelMapUnreadable: Error, Equatable, Sendable {
    public var errno: Int32
}
