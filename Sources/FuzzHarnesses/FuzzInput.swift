/// Reads a fuzzer's bytes as a script: small choices first, payloads after. Running out
/// of bytes answers zeros and empty payloads, so every input is a complete script.
struct FuzzInput {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isEmpty: Bool { position >= bytes.count }
    var remaining: Int { bytes.count - position }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func bigEndian16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func bigEndian32() -> UInt32 { UInt32(bigEndian16()) << 16 | UInt32(bigEndian16()) }

    mutating func take(_ count: Int) -> [UInt8] {
        let n = max(0, min(count, remaining))
        defer { position += n }
        return Array(bytes[position..<(position + n)])
    }

    /// A length-prefixed chunk (one byte of length, up to 255).
    mutating func chunk() -> [UInt8] { take(Int(byte())) }

    mutating func rest() -> [UInt8] { take(remaining) }
}
