/// Test data that lives in ../shared (read at run time, not copied into the repo).
public enum SharedVectors {
    /// The directory `shared` beside this repository.
    public static var sharedDirectory: String {
        let parts = #filePath.split(separator: "/").dropLast(3) // Tests/TestSupport/File.swift
        return "/" + parts.joined(separator: "/") + "/../shared"
    }

    public struct HexVector: Sendable {
        public var id: String
        public var title: String
        public var bytes: [UInt8]
    }

    /// The `## Vn — title` sections of vectors/conntrackd-messages.md with the bytes of
    /// their first hex block.
    public static func conntrackdMessages() -> [HexVector] {
        hexSections(sharedDirectory + "/vectors/conntrackd-messages.md")
    }

    /// For every `## Vn…` heading of a vectors markdown file, the bytes of the first
    /// hex block under it (blocks of other text are skipped).
    public static func hexSections(_ path: String) -> [HexVector] {
        let text = Vectors.readText(path)
        var out: [HexVector] = []
        var current: (String, String)?
        var inBlock = false
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## V") {
                let title = line.dropFirst(3)
                let id = title.split(separator: " ").first.map { String($0.trimmingSuffix(".")) } ?? ""
                current = (id, String(title))
                bytes = []
                continue
            }
            guard let c = current else { continue }
            if line.hasPrefix("```") {
                if inBlock {
                    inBlock = false
                    if !bytes.isEmpty { out.append(HexVector(id: c.0, title: c.1, bytes: bytes)); current = nil }
                } else {
                    inBlock = true
                }
                continue
            }
            if inBlock {
                let fields = line.split(separator: " ")
                guard let first = fields.first, first.count == 4, first.allSatisfy(\.isHexDigit) else { continue }
                for f in fields.dropFirst() where f.count == 2 { bytes.append(UInt8(f, radix: 16)!) }
            }
        }
        return out
    }
}

extension Substring {
    func trimmingSuffix(_ c: Character) -> Substring { last == c ? dropLast() : self }
}
