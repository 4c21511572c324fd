import ConfigParsing
import Testing

/// Token columns count characters from the line's start. The lexer used to decode the
/// line again from its start for every token, which made a long line quadratic (found by
/// the conntrackd-conf and keepalived-conf fuzzers: a 4 KiB line of braces took about
/// 40 ms per parse, a 4 KiB file of short lines 2 ms); it now walks each line once.
/// These pin the columns to that definition on text where characters and bytes differ.
@Suite struct LexerColumnTests {
    /// A line built from (gap, token) pairs, with each token's column by the definition:
    /// the text of the line before the token, decoded on its own, counted in characters,
    /// plus one.
    static func line(_ parts: [(String, String)]) -> (text: String, columns: [Int]) {
        var bytes: [UInt8] = []
        var columns: [Int] = []
        for (gap, token) in parts {
            bytes += Array(gap.utf8)
            columns.append(String(decoding: bytes, as: UTF8.self).count + 1)
            bytes += Array(token.utf8)
        }
        return (String(decoding: bytes, as: UTF8.self), columns)
    }

    static let hostile: [[(String, String)]] = [
        [("", "café"), (" ", "{"), (" ", "é"), (" ", "ü"), (" ", "}"), (" ", "\"naïve\""), (" ", "x")],
        // A token that starts with a combining mark: the mark joins the space before it.
        [("", "a"), (" ", "\u{301}b"), (" ", "\u{301}\u{301}c"), (" ", "{"), ("", "\u{301}"), ("", "}")],
        // Emoji sequences and flags split across tokens, tabs, a zero-width joiner.
        [("", "👩‍👩‍👧"), (" ", "🇺🇸🇫🇷"), (" ", "x"), ("\t", "🇺"), (" ", "🇸"), (" ", "y"), ("\r ", "\u{200D}w")],
        [("", "\u{FFFD}\u{FFFD}"), (" ", "x"), (" ", "{"), ("", "\u{0}"), ("", "}"), (" ", "\u{7F}"), ("  ", "end")],
    ]

    @Test func columnsCountCharactersOnHostileLines() throws {
        let lexer = Lexer(file: "t.conf", commentCharacters: ["#", "!"], allowsQuotes: true)
        for parts in Self.hostile {
            let (text, expected) = Self.line(parts)
            let tokens = try lexer.tokenize(text)
            #expect(tokens.map(\.text) == parts.map { $0.1.replacing("\"", with: "") }, "\(text)")
            #expect(tokens.map(\.location.column) == expected, "\(text)")
        }
        // The control: here characters and bytes differ, so a lexer counting bytes fails.
        let tokens = try lexer.tokenize("café { é }")
        #expect(tokens.map(\.location.column) == [1, 6, 8, 10])
        #expect(tokens.map(\.location.column) != [1, 7, 9, 12])
    }

    @Test func aLongLineKeepsItsColumns() throws {
        let lexer = Lexer(file: "t.conf")
        let braces = try lexer.tokenize(String(repeating: "{", count: 4096))
        #expect(braces.count == 4096)
        #expect(braces.enumerated().allSatisfy { $0.element.location.column == $0.offset + 1 })

        let words = try lexer.tokenize(String(repeating: "é ", count: 2048) + "\nx")
        #expect(words.count == 2049)
        #expect(words[2047].location.column == 4095)
        #expect(words[2048].location == SourceLocation(file: "t.conf", line: 2, column: 1))
    }
}
