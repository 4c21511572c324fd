/// What a track_file does to an instance (keepalived 2.2.7, trackers/track_file.c): the
/// integer in the file, times the tracking weight (negated by `reverse`), is added to the
/// priority; at -254 or below the instance is in FAULT. With weight 0 the value is only
/// good or bad: non-zero is a fault (zero, with `reverse`).
public enum TrackedFileValue {
    public enum Effect: Hashable, Sendable {
        case fault
        case offset(Int)
    }

    public static func effect(value: Int64, weight: Int, reverse: Bool) -> Effect {
        if weight == 0 { return (value != 0) != reverse ? .fault : .offset(0) }
        // |value| ≤ 2^31 and |weight| ≤ 254: no overflow.
        let scaled = value * Int64(weight) * (reverse ? -1 : 1)
        let status = max(-254, min(253, scaled))
        return status == -254 ? .fault : .offset(Int(status))
    }

    /// keepalived's reading of the file: its first 127 bytes through strtol with base 0
    /// (decimal, 0x hex, 0 octal, leading blanks and a sign allowed, anything after the
    /// number ignored). A missing or empty file, or one without a number, reads as 0.
    /// nil: a number beyond what keepalived accepts (outside INT32_MIN...INT32_MAX + 1),
    /// which it logs and ignores, keeping the last value.
    public static func parse(_ contents: [UInt8]?) -> Int64? {
        guard let contents else { return 0 }
        var bytes = contents.prefix(127)[...]
        if let nul = bytes.firstIndex(of: 0) { bytes = bytes[..<nul] }
        while let c = bytes.first, c == 0x20 || (0x09...0x0d).contains(c) { bytes = bytes.dropFirst() }
        var negative = false
        if let c = bytes.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            negative = c == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var base: Int64 = 10
        if bytes.first == UInt8(ascii: "0") {
            let rest = bytes.dropFirst()
            if let x = rest.first, x | 0x20 == UInt8(ascii: "x"), let d = rest.dropFirst().first, digit(d, base: 16) != nil {
                base = 16
                bytes = rest.dropFirst()
            } else {
                base = 8
            }
        }
        var magnitude: Int64 = 0
        for c in bytes {
            guard let d = digit(c, base: base) else { break }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: base)
            let (n, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            magnitude = n
        }
        let value = negative ? -magnitude : magnitude
        guard value >= Int64(Int32.min), value <= Int64(Int32.max) + 1 else { return nil }
        return value
    }

    static func digit(_ c: UInt8, base: Int64) -> Int64? {
        let d: Int64
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): d = Int64(c - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): d = Int64(c - UInt8(ascii: "A")) + 10
        default: return nil
        }
        return d < base ? d : nil
    }
}
