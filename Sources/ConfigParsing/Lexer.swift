/// A token of the two configuration languages: a word (anything up to whitespace or a
/// brace), a quoted string, or a brace.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case word
        case quoted
        case openBrace
        case closeBrace
    }

    public var kind: Kind
    public var text: String
    public var location: SourceLocation
    /// The first token on its line: keepalived's grammar is line-oriented.
    public var startsLine: Bool
}

/// Splits a configuration file into tokens. Comments run from any of `commentCharacters`
/// to the end of the line (conntrackd: `#`; keepalived: `#` and `!`).
public struct Lexer {
    public let file: String
    public let commentCharacters: Set<UInt8>
    public let allowsQuotes: Bool

    public init(file: String, commentCharacters: Set<Character> = ["#"], allowsQuotes: Bool = false) {
        self.file = file
        self.commentCharacters = Set(commentCharacters.compactMap { $0.asciiValue })
        self.allowsQuotes = allowsQuotes
    }

    public func tokenize(_ text: String) throws(ConfigError) -> [Token] {
        let bytes = Array(text.utf8)
        var tokens: [Token] = []
        var i = 0
        var line = 1
        var lineStart = 0
        var sawTokenOnLine = false
        // Made when the line's first token needs a column: comment and blank lines never
        // decode.
        var columns: LineColumns?
        func location(_ at: Int) -> SourceLocation {
            var current = columns.flatMap { $0.start == lineStart ? $0 : nil } ?? LineColumns(bytes, from: lineStart)
            let column = current.column(at: at)
            columns = current
            return SourceLocation(file: file, line: line, column: column)
        }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case 10:
                line += 1
                i += 1
                lineStart = i
                sawTokenOnLine = false
            case 32, 9, 13, 11, 12:
                i += 1
            case _ where commentCharacters.contains(c):
                while i < bytes.count && bytes[i] != 10 { i += 1 }
            case UInt8(ascii: "{"), UInt8(ascii: "}"):
                tokens.append(Token(kind: c == UInt8(ascii: "{") ? .openBrace : .closeBrace, text: c == UInt8(ascii: "{") ? "{" : "}",
                                    location: location(i), startsLine: !sawTokenOnLine))
                sawTokenOnLine = true
                i += 1
            case UInt8(ascii: "\"") where allowsQuotes:
                let start = i
                i += 1
                var value: [UInt8] = []
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") && bytes[i] != 10 {
                    value.append(bytes[i])
                    i += 1
                }
                guard i < bytes.count && bytes[i] == UInt8(ascii: "\"") else {
                    throw ConfigError("unterminated quoted string", at: location(start), token: String(decoding: bytes[start..<i], as: UTF8.self))
                }
                i += 1
                tokens.append(Token(kind: .quoted, text: String(decoding: value, as: UTF8.self), location: location(start), startsLine: !sawTokenOnLine))
                sawTokenOnLine = true
            default:
                let start = i
                while i < bytes.count {
                    let d = bytes[i]
                    if d == 32 || d == 9 || d == 10 || d == 13 || d == 11 || d == 12 || d == UInt8(ascii: "{") || d == UInt8(ascii: "}") { break }
                    if commentCharacters.contains(d) { break }
                    i += 1
                }
                tokens.append(Token(kind: .word, text: String(decoding: bytes[start..<i], as: UTF8.self), location: location(start), startsLine: !sawTokenOnLine))
                sawTokenOnLine = true
            }
        }
        return tokens
    }
}

/// A cursor over tokens with the error helpers every grammar uses.
public struct TokenStream {
    public let tokens: [Token]
    public private(set) var index = 0
    public let file: String
    let endLocation: SourceLocation

    public init(_ tokens: [Token], file: String) {
        self.tokens = tokens
        self.file = file
        endLocation = tokens.last.map { SourceLocation(file: file, line: $0.location.line, column: $0.location.column + $0.text.count) }
            ?? SourceLocation(file: file, line: 1, column: 1)
    }

    public var atEnd: Bool { index >= tokens.count }
    public var peek: Token? { atEnd ? nil : tokens[index] }

    public mutating func next() -> Token? {
        guard !atEnd else { return nil }
        defer { index += 1 }
        return tokens[index]
    }

    public func error(_ message: String, at token: Token?) -> ConfigError {
        ConfigError(message, at: token?.location ?? endLocation, token: token?.text ?? "")
    }

    public mutating func word(_ what: String) throws(ConfigError) -> Token {
        guard let t = next() else { throw error("expected \(what), found end of file", at: nil) }
        guard t.kind == .word || t.kind == .quoted else { throw error("expected \(what)", at: t) }
        return t
    }

    public mutating func open() throws(ConfigError) {
        guard let t = next() else { throw error("expected `{', found end of file", at: nil) }
        guard t.kind == .openBrace else { throw error("expected `{'", at: t) }
    }

    /// True (and consumed) when the next token closes the block.
    public mutating func closes() throws(ConfigError) -> Bool {
        guard let t = peek else { throw error("missing `}' at end of file", at: nil) }
        if t.kind == .closeBrace { index += 1; return true }
        return false
    }
}
