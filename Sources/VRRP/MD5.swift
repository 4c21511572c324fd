#if canImport(Glibc)
import Glibc
#endif

/// MD5 (RFC 1321) and HMAC-MD5 (RFC 2104), only because keepalived's VRRPv2 AH
/// authentication is HMAC-MD5-96; nothing here is meant to be collision resistant.
public enum MD5 {
    private static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]
    /// floor(|sin(i + 1)| × 2³²), as RFC 1321 defines the table.
    private static let constants: [UInt32] = (0..<64).map { UInt32(fabs(sin(Double($0 + 1))) * 4_294_967_296.0) }

    public static func digest<C: Collection>(_ message: C) -> [UInt8] where C.Element == UInt8 {
        var data = Array(message)
        let bitLength = UInt64(data.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for k in 0..<8 { data.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(k)))) }
        var h: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
        var words = [UInt32](repeating: 0, count: 16)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for w in 0..<16 {
                let o = chunk + 4 * w
                words[w] = UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
            }
            var (a, b, c, d) = h
            for i in 0..<64 {
                var f: UInt32
                let g: Int
                switch i / 16 {
                case 0: f = (b & c) | (~b & d); g = i
                case 1: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 2: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ constants[i] &+ words[g]
                a = d
                d = c
                c = b
                let s = shifts[(i / 16) * 4 + i % 4]
                b = b &+ (f << s | f >> (32 - s))
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d)
        }
        var out: [UInt8] = []
        for v in [h.0, h.1, h.2, h.3] { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) } }
        return out
    }

    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > 64 ? digest(key) : key
        k += [UInt8](repeating: 0, count: 64 - k.count)
        let inner = digest(k.map { $0 ^ 0x36 } + message)
        return digest(k.map { $0 ^ 0x5c } + inner)
    }
}
