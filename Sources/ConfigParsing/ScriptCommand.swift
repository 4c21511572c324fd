/// A notify or script command line split into argv as keepalived 2.2.7 splits it
/// (alloc_strvec_quoted_escaped, spec §3.2): unquoted white space separates words, single
/// and double quotes group them, and a backslash escapes everywhere, inside single quotes
/// too (unlike a shell): `\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`, `\E`, `\xHH…`, `\cX`,
/// up to three octal digits, else the character itself. A quote left open or a backslash
/// at the very end makes the whole line unusable, as keepalived then has no command.
/// The configuration's own double quotes are already gone by the time the lexer hands the
/// string over.
public enum ScriptCommand {
    static let whiteSpace: Set<UInt8> = [0x20, 0x09, 0x0c, 0x0a, 0x0d, 0x0b]

    public static func argv(_ command: String) -> [String] {
        let b = Array(command.utf8)
        var words: [String] = []
        var i = 0
        func isHex(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x41...0x46).contains(c) || (0x61...0x66).contains(c) }
        func hexValue(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10 }
        func isOctal(_ c: UInt8) -> Bool { (0x30...0x37).contains(c) }
        while i < b.count {
            while i < b.count, whiteSpace.contains(b[i]) { i += 1 }
            guard i < b.count else { break }
            var word: [UInt8] = []
            var quote: UInt8?
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\\") {
                    i += 1
                    guard i < b.count else { return [] }
                    let e = b[i]
                    if e == UInt8(ascii: "x"), i + 1 < b.count, isHex(b[i + 1]) {
                        // keepalived keeps the last two digits of a longer run (a char shifts).
                        var v: UInt8 = 0
                        i += 1
                        while i < b.count, isHex(b[i]) { v = (v << 4) | hexValue(b[i]); i += 1 }
                        word.append(v)
                    } else if e == UInt8(ascii: "c"), i + 1 < b.count {
                        word.append(b[i + 1] & 0x1f)
                        i += 2
                    } else if isOctal(e) {
                        var v = e - 0x30
                        i += 1
                        for _ in 0..<2 where i < b.count && isOctal(b[i]) { v = (v << 3) &+ (b[i] - 0x30); i += 1 }
                        word.append(v)
                    } else {
                        let named: [UInt8: UInt8] = [UInt8(ascii: "a"): 0x07, UInt8(ascii: "b"): 0x08, UInt8(ascii: "E"): 0x1b,
                                                     UInt8(ascii: "f"): 0x0c, UInt8(ascii: "n"): 0x0a, UInt8(ascii: "r"): 0x0d,
                                                     UInt8(ascii: "t"): 0x09, UInt8(ascii: "v"): 0x0b]
                        word.append(named[e] ?? e)
                        i += 1
                    }
                    continue
                }
                if let q = quote {
                    if c == q { quote = nil } else { word.append(c) }
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    quote = c
                    i += 1
                    continue
                }
                if whiteSpace.contains(c) { break }
                word.append(c)
                i += 1
            }
            if quote != nil { return [] }
            words.append(String(decoding: word, as: UTF8.self))
        }
        return words
    }
}
