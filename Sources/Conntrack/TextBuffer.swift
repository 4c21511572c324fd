#if canImport(Glibc)
import Glibc
#endif
import IPAddressing

/// Appends text to a byte buffer without building Strings: printing a 250k-flow table
/// is dominated by formatting, and String concatenation costs allocations per field.
enum TextBuffer {
    @inline(__always)
    static func append(_ s: StaticString, to out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    static func append(_ s: String, to out: inout [UInt8]) {
        out.append(contentsOf: s.utf8)
    }

    static func decimal<T: BinaryInteger>(_ value: T, to out: inout [UInt8]) {
        var v = UInt64(truncatingIfNeeded: value)
        var digits = 1
        var probe = v
        while probe >= 10 { probe /= 10; digits += 1 }
        let start = out.count
        out.append(contentsOf: repeatElement(48, count: digits))
        var i = start + digits - 1
        repeat {
            out[i] = 48 + UInt8(v % 10)
            v /= 10
            i -= 1
        } while v > 0
    }

    /// Lower-case hex without leading zeros, as printf's %x.
    static func hex<T: BinaryInteger>(_ value: T, to out: inout [UInt8]) {
        let v = UInt64(truncatingIfNeeded: value)
        var shift = 60
        while shift > 0 && (v >> UInt64(shift)) & 0xf == 0 { shift -= 4 }
        while shift >= 0 {
            let nibble = UInt8((v >> UInt64(shift)) & 0xf)
            out.append(nibble < 10 ? 48 + nibble : 87 + nibble)
            shift -= 4
        }
    }

    static func address(_ a: IPAddress, to out: inout [UInt8]) {
        switch a {
        case .v4(let v):
            decimal(v >> 24, to: &out); out.append(46)
            decimal((v >> 16) & 0xff, to: &out); out.append(46)
            decimal((v >> 8) & 0xff, to: &out); out.append(46)
            decimal(v & 0xff, to: &out)
        case .v6:
            // inet_ntop's compression rules are what conntrack(8) shows; use it directly.
            var raw = a.bytes
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text in
                guard inet_ntop(AF_INET6, &raw, text.baseAddress, 64) != nil else { return }
                let n = strlen(text.baseAddress!)
                text.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: n) {
                    out.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
                }
            }
        }
    }

    /// `name` left-aligned in `width` columns (printf's %-8s).
    static func padded(_ name: StaticString, _ width: Int, to out: inout [UInt8]) {
        append(name, to: &out)
        let n = name.utf8CodeUnitCount
        if n < width { out.append(contentsOf: repeatElement(32, count: width - n)) }
    }
}
