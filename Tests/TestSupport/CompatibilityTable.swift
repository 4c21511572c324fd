/// The tables of docs/compatibility.md, read so tests can hold them to the parsers'
/// own lists.
public enum CompatibilityTable {
    public struct Row: Sendable {
        /// Every `code` spelling in the first cell.
        public var names: [String]
        public var status: String
        public var line: String
    }

    public static var path: String {
        let parts = #filePath.split(separator: "/").dropLast(3) // Tests/TestSupport/File.swift
        return "/" + parts.joined(separator: "/") + "/docs/compatibility.md"
    }

    /// The rows of the table under `## heading` (up to the next `## `).
    public static func rows(section heading: String) -> [Row] {
        let text = Vectors.readText(path)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "## \(heading)") else { return [] }
        var rows: [Row] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
            guard cells.count >= 4 else { continue }
            let first = cells[1]
            var names: [String] = []
            var inside = false
            var current = ""
            for ch in first {
                if ch == "`" {
                    if inside { names.append(current); current = "" }
                    inside.toggle()
                } else if inside {
                    current.append(ch)
                }
            }
            rows.append(Row(names: names, status: cells[cells.count >= 6 ? 3 : 2], line: line))
        }
        return rows
    }
}
