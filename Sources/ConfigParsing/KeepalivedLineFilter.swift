#if canImport(Glibc)
import Glibc
#endif

/// keepalived.conf's line-level layer, applied before the grammar sees a line (keepalived
/// 2.2.7's lib/parser.c read_line): `@id` / `@^id` conditional lines chosen by the config
/// id (`-i`, by default the host name up to its first dot), `$NAME=value` definitions and
/// their `$NAME` / `${NAME}` uses. Lines keep their numbers (a line that goes becomes
/// empty) and a kept `@id` line keeps its columns. Definitions carry over into included
/// files, as keepalived's do. Multi-line definitions, `${_RANDOM}` and the `~SEQ` / `~LST`
/// loops are refused.
public struct KeepalivedLineFilter {
    public let configID: String?
    /// Definitions in the order made; keepalived's built-ins first.
    private var definitions: [(name: String, value: String)] = [("_HASH", "#"), ("_BANG", "!")]
    public private(set) var unsupported: [ConfigError] = []
    public private(set) var errors: [ConfigError] = []

    public init(configID: String?) {
        self.configID = configID
    }

    /// The host's name up to its first dot: keepalived's config id when `-i` is not given.
    public static var nodeName: String {
        var u = utsname()
        uname(&u)
        let name = withUnsafeBytes(of: &u.nodename) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return String(name.prefix { $0 != "." })
    }

    public mutating func apply(_ text: String, file: String) -> String {
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        var out: [Substring] = []
        var number = 0
        // CR LF is one Character, so it is named as a line end of its own; a file written
        // so was one line to this layer, its `@id` and `$` lines never seen. keepalived
        // drops a line's trailing CRs with its LF, and so do we.
        for var raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            while raw.last == "\r" { raw.removeLast() }
            out.append(Substring(filter(String(raw), at: SourceLocation(file: file, line: number, column: 1), directory: directory)))
        }
        return out.joined(separator: "\n")
    }

    private mutating func filter(_ raw: String, at location: SourceLocation, directory: String) -> String {
        var line = raw
        for _ in 0..<16 {
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let body = line.dropFirst(indent)
            if body.hasPrefix("@") {
                guard let kept = conditional(body) else { return "" }
                // Blank out the condition so the statement keeps its columns.
                line = String(repeating: " ", count: line.count - kept.count) + kept
                continue
            }
            if body.hasPrefix("$"), let definition = Self.definition(String(body)) {
                if definition.value.hasSuffix("\\") {
                    unsupported.append(ConfigError("multi-line definition `$\(definition.name)' is not supported by tandem", at: location, token: "$" + definition.name))
                } else if let i = definitions.firstIndex(where: { $0.name == definition.name }) {
                    definitions[i].value = definition.value
                } else {
                    definitions.append(definition)
                }
                return ""
            }
            if body.hasPrefix("~SEQ") || body.hasPrefix("~LST") {
                unsupported.append(ConfigError("`\(body.prefix(4))' is not supported by tandem", at: location, token: String(body.prefix(4))))
                return ""
            }
            // A `$` byte that is no `$` Character (a combining mark follows) finds nothing to replace.
            guard line.utf8.contains(UInt8(ascii: "$")) else { return line }
            switch substitute(line, at: location, directory: directory) {
            case .unchanged: return line
            case .replaced(let replaced): line = replaced
            case .tooLong:
                errors.append(ConfigError("parameter substitution would exceed the maximum line length (\(Self.maximumLineBytes - 1) bytes)",
                                          at: location, token: raw))
                return ""
            }
        }
        errors.append(ConfigError("definitions expand without end", at: location, token: raw))
        return ""
    }

    /// `@id rest` keeps `rest` when id is the config id; `@^id rest` when it is not.
    private func conditional(_ body: Substring) -> Substring? {
        let reversed = body.dropFirst().hasPrefix("^")
        let afterMark = body.dropFirst(reversed ? 2 : 1)
        guard let gap = afterMark.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let matches = configID.map { afterMark[..<gap] == $0 } ?? false
        guard matches != reversed else { return nil }
        return afterMark[gap...].drop { $0 == " " || $0 == "\t" }
    }

    /// `$NAME=value`: a name of letters, digits and underscores (not starting with a
    /// digit) right up to the `=`; the value without leading blanks, comments or trailing blanks.
    static func definition(_ body: String) -> (name: String, value: String)? {
        // Checked before the line is copied: a line of uses (`${A}...`) comes here at every round.
        guard let first = body.unicodeScalars.dropFirst().first, first == "_" || (first.properties.isAlphabetic && first.isASCII) else { return nil }
        let chars = Array(body.unicodeScalars.dropFirst())
        var i = 1
        while i < chars.count, chars[i] != "=" {
            guard chars[i] == "_" || (chars[i].isASCII && chars[i].properties.numericType != nil) || (chars[i].isASCII && chars[i].properties.isAlphabetic) else { return nil }
            i += 1
        }
        guard i < chars.count else { return nil }
        let name = String(String.UnicodeScalarView(chars[0..<i]))
        var value = String(String.UnicodeScalarView(chars[(i + 1)...]))
        value = String(value.drop { $0 == " " || $0 == "\t" })
        value = withoutComment(value)
        while value.last == " " || value.last == "\t" { value.removeLast() }
        return (name, value)
    }

    /// Cuts a line at its first `#` or `!` outside double quotes.
    static func withoutComment(_ s: String) -> String {
        var quoted = false
        var out = ""
        for c in s {
            if c == "\"" { quoted.toggle() }
            if !quoted && (c == "#" || c == "!") { break }
            out.append(c)
        }
        return out
    }

    mutating func value(of name: String, at location: SourceLocation, directory: String) -> String? {
        // A definition of the operator's own overrides a built-in of the same name.
        if let made = definitions.last(where: { $0.name == name }) { return made.value }
        switch name {
        case "_PWD": return directory
        case "_INSTANCE": return configID ?? ""
        case "_RANDOM":
            unsupported.append(ConfigError("`${_RANDOM}' is not supported by tandem", at: location, token: "$" + name))
            return ""
        default: return nil
        }
    }
}
