/// keepalived's `$NAME` / `${NAME}` replacement, one pass over a line (the line filter
/// repeats it up to sixteen times while it changes something).
extension KeepalivedLineFilter {
    /// keepalived reads a line into a buffer of this many bytes, its terminating NUL
    /// included, and refuses a substitution that would not fit (lib/parser.c,
    /// replace_param). Without the bound a definition that names itself more than once
    /// (`$A=${A}${A}${A}${A}`) grew 4^16-fold in the sixteen rounds: a 34-byte file took
    /// gigabytes and the parse never ended.
    static let maximumLineBytes = 1024

    enum Substitution: Equatable {
        case unchanged
        case replaced(String)
        /// The line would reach `maximumLineBytes`; substituting stopped there.
        case tooLong
    }

    /// One pass over the line replacing every known `$NAME` / `${NAME}`. A line is read
    /// as Characters (a `$` or `}` carrying a combining mark is no `$` or `}`), but on a
    /// line of ASCII without CR every byte is a Character of its own, so there the pass
    /// reads bytes: a definition that doubles itself rescans its line at each of up to
    /// ten rounds, and splitting the line into Characters every time made such a file
    /// of short lines cost hundreds of milliseconds.
    mutating func substitute(_ line: String, at location: SourceLocation, directory: String) -> Substitution {
        if line.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: "\r") }) {
            return substitute(units: Array(line.utf8), at: location, directory: directory)
        }
        return substitute(units: Array(line), at: location, directory: directory)
    }

    private mutating func substitute<U: LineUnit>(units: [U], at location: SourceLocation, directory: String) -> Substitution {
        var out: [U] = []
        out.reserveCapacity(units.count)
        var bytes = 0
        var i = 0
        var replaced = false
        while i < units.count {
            guard units[i] == U.dollar, i + 1 < units.count else {
                out.append(units[i])
                bytes += units[i].utf8Count
                i += 1
                continue
            }
            let braces = units[i + 1] == U.openBrace
            var j = i + (braces ? 2 : 1)
            let start = j
            while j < units.count, units[j].isNameUnit { j += 1 }
            let ends = braces ? (j < units.count && units[j] == U.closeBrace) : (j == units.count || units[j].endsBareName)
            guard j > start, !units[start].isDigit, ends,
                  let value = value(of: U.string(units[start..<j]), at: location, directory: directory) else {
                out.append(units[i])
                bytes += units[i].utf8Count
                i += 1
                continue
            }
            // The line only grows from here on, so a value that does not fit now never will.
            guard bytes + value.utf8.count < Self.maximumLineBytes else { return .tooLong }
            U.append(value, to: &out)
            bytes += value.utf8.count
            i = braces ? j + 1 : j
            replaced = true
        }
        guard replaced else { return .unchanged }
        return bytes < Self.maximumLineBytes ? .replaced(U.string(out[...])) : .tooLong
    }
}

/// What a substitution pass reads a line as: Characters, or bytes where those are the same.
protocol LineUnit: Equatable {
    static var dollar: Self { get }
    static var openBrace: Self { get }
    static var closeBrace: Self { get }
    /// An ASCII letter, digit or underscore.
    var isNameUnit: Bool { get }
    var isDigit: Bool { get }
    /// Ends a name written without braces.
    var endsBareName: Bool { get }
    var utf8Count: Int { get }
    static func string(_ units: ArraySlice<Self>) -> String
    static func append(_ value: String, to units: inout [Self])
}

extension Character: LineUnit {
    static var dollar: Character { "$" }
    static var openBrace: Character { "{" }
    static var closeBrace: Character { "}" }
    var isNameUnit: Bool { self == "_" || (isASCII && (isLetter || isNumber)) }
    var isDigit: Bool { isNumber }
    var endsBareName: Bool { self == " " || self == "\t" || self == "," || self == ")" }
    var utf8Count: Int { utf8.count }
    static func string(_ units: ArraySlice<Character>) -> String { String(units) }
    static func append(_ value: String, to units: inout [Character]) { units.append(contentsOf: value) }
}

extension UInt8: LineUnit {
    static var dollar: UInt8 { UInt8(ascii: "$") }
    static var openBrace: UInt8 { UInt8(ascii: "{") }
    static var closeBrace: UInt8 { UInt8(ascii: "}") }
    var isNameUnit: Bool { self == UInt8(ascii: "_") || isDigit || ((self | 0x20) >= UInt8(ascii: "a") && (self | 0x20) <= UInt8(ascii: "z")) }
    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    var endsBareName: Bool { self == UInt8(ascii: " ") || self == UInt8(ascii: "\t") || self == UInt8(ascii: ",") || self == UInt8(ascii: ")") }
    var utf8Count: Int { 1 }
    static func string(_ units: ArraySlice<UInt8>) -> String { String(decoding: units, as: UTF8.self) }
    static func append(_ value: String, to units: inout [UInt8]) {
        // A native string's bytes are contiguous: copied at once, not iterated one by one.
        if value.utf8.withContiguousStorageIfAvailable({ units.append(contentsOf: $0) }) == nil { units.append(contentsOf: value.utf8) }
    }
}
