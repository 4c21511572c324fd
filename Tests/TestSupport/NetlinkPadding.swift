import Netlink

/// Zeroes the alignment padding after every attribute (recursively through nests), so
/// messages from libraries that leave stale bytes there compare equal to ours.
public enum NetlinkPadding {
    public static func zeroed(_ message: [UInt8], bodyOffset: Int) -> [UInt8] {
        var m = message
        zero(&m, bodyOffset..<m.count)
        return m
    }

    static func zero(_ m: inout [UInt8], _ range: Range<Int>) {
        var p = range.lowerBound
        while p + 4 <= range.upperBound {
            let length = Int(m[p]) | Int(m[p + 1]) << 8
            let nested = m[p + 3] & 0x80 != 0
            guard length >= 4, p + length <= range.upperBound else { return }
            if nested { zero(&m, (p + 4)..<(p + length)) }
            let padded = min(range.upperBound, netlinkAlign(p + length - range.lowerBound) + range.lowerBound)
            for i in (p + length)..<padded { m[i] = 0 }
            p = padded
        }
    }
}
