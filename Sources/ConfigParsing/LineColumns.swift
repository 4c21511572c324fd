/// The columns of one line, counted in characters as an editor shows them, not in bytes.
/// The line is decoded once and walked forward as its tokens come: decoding it again
/// from its start for each token made lexing a long line quadratic (a 4 KiB line of
/// braces cost the conntrackd.conf parser about 40 ms under the fuzzer, twenty times a
/// 4 KiB file of short lines).
struct LineColumns {
    /// The line's first byte in the whole text.
    let start: Int
    private let line: String
    private var index: String.Index
    /// Characters that begin before `index`.
    private var passed = 0

    /// The line starting at `start` in `bytes`, which are a String's UTF-8 (so valid, and
    /// the decoded line's offsets are the bytes' offsets).
    init(_ bytes: [UInt8], from start: Int) {
        var end = start
        while end < bytes.count && bytes[end] != 10 { end += 1 }
        self.start = start
        line = String(decoding: bytes[start..<end], as: UTF8.self)
        index = line.startIndex
    }

    /// The column of the byte at `offset` in the whole text: one more than the characters
    /// of the line that begin before it, which is what counting the text from the line's
    /// start up to that byte gives. Offsets must not go backwards within a line.
    mutating func column(at offset: Int) -> Int {
        let target = offset - start
        while index < line.endIndex && line.utf8.distance(from: line.startIndex, to: index) < target {
            passed += 1
            index = line.index(after: index)
        }
        return passed + 1
    }
}
