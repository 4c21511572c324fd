#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address held inline (no heap), in network byte order semantics:
/// `v4(0x0a000001)` is 10.0.0.1.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public var family: UInt8 { if case .v4 = self { AddressFamily.inet } else { AddressFamily.inet6 } }

    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        self.init(bytes: bytes[...])!
    }

    /// From 4 or 16 network-order bytes.
    public init?(bytes: ArraySlice<UInt8>) {
        var it = bytes.makeIterator()
        func take(_ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for _ in 0..<n { v = v << 8 | UInt64(it.next()!) }
            return v
        }
        switch bytes.count {
        case 4: self = .v4(UInt32(take(4)))
        case 16: self = .v6(take(8), take(8))
        default: return nil
        }
    }

    /// From 4 or 16 network-order bytes in a raw buffer.
    public init?(raw: UnsafeRawBufferPointer) {
        func word(_ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<8 { v = v << 8 | UInt64(raw[at + i]) }
            return v
        }
        switch raw.count {
        case 4: self = .v4(UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3]))
        case 16: self = .v6(word(0), word(8))
        default: return nil
        }
    }

    /// Appends the 4 or 16 network-order bytes.
    public func append(to out: inout [UInt8]) {
        switch self {
        case .v4(let a):
            out.append(UInt8(a >> 24)); out.append(UInt8((a >> 16) & 0xff))
            out.append(UInt8((a >> 8) & 0xff)); out.append(UInt8(a & 0xff))
        case .v6(let hi, let lo):
            for w in [hi, lo] { for i in 0..<8 { out.append(UInt8((w >> (56 - 8 * UInt64(i))) & 0xff)) } }
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let a): return [UInt8(a >> 24), UInt8((a >> 16) & 0xff), UInt8((a >> 8) & 0xff), UInt8(a & 0xff)]
        case .v6(let hi, let lo):
            var out = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 {
                out[i] = UInt8((hi >> (56 - 8 * UInt64(i))) & 0xff)
                out[8 + i] = UInt8((lo >> (56 - 8 * UInt64(i))) & 0xff)
            }
            return out
        }
    }

    /// The text inet_ntop gives, which is what conntrack(8) prints.
    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).\(a & 0xff)"
        case .v6:
            var raw = bytes
            var out = [CChar](repeating: 0, count: 64)
            _ = inet_ntop(AF_INET6, &raw, &out, 64)
            return String(nulTerminated: out)
        }
    }

    /// `self & mask`, for address/prefix filters.
    public func masked(by mask: IPAddress) -> IPAddress {
        switch (self, mask) {
        case (.v4(let a), .v4(let m)): .v4(a & m)
        case (.v6(let h, let l), .v6(let mh, let ml)): .v6(h & mh, l & ml)
        default: self
        }
    }

    /// The netmask of a prefix length in this address's family.
    public static func mask(family: UInt8, prefix: Int) -> IPAddress {
        if family == AddressFamily.inet {
            let p = max(0, min(32, prefix))
            return .v4(p == 0 ? 0 : UInt32.max << (32 - UInt32(p)))
        }
        let p = max(0, min(128, prefix))
        let hi: UInt64 = p == 0 ? 0 : (p >= 64 ? .max : UInt64.max << (64 - UInt64(p)))
        let lo: UInt64 = p <= 64 ? 0 : (p == 128 ? .max : UInt64.max << (128 - UInt64(p)))
        return .v6(hi, lo)
    }
}
