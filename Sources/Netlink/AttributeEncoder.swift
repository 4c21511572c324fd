/// Appends netlink attributes to a byte buffer. Integers in conntrack payloads are
/// big-endian; the attribute headers are host order (little-endian here).
public struct AttributeEncoder {
    public var bytes: [UInt8]

    public init(bytes: [UInt8] = []) { self.bytes = bytes }

    public mutating func uint8(_ type: UInt16, _ v: UInt8) { put(type, [v]) }

    public mutating func uint16BE(_ type: UInt16, _ v: UInt16) {
        put(type, [UInt8(v >> 8), UInt8(v & 0xff)])
    }

    public mutating func uint32BE(_ type: UInt16, _ v: UInt32) {
        put(type, [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)])
    }

    public mutating func uint64BE(_ type: UInt16, _ v: UInt64) {
        var b = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { b[i] = UInt8((v >> (56 - 8 * UInt64(i))) & 0xff) }
        put(type, b)
    }

    public mutating func uint32Host(_ type: UInt16, _ v: UInt32) {
        put(type, [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)])
    }

    /// A NUL-terminated string.
    public mutating func string(_ type: UInt16, _ s: String) {
        put(type, Array(s.utf8) + [0])
    }

    public mutating func data(_ type: UInt16, _ payload: [UInt8]) { put(type, payload) }

    /// A nested attribute: `body` appends the children; the length is patched afterwards.
    public mutating func nested(_ type: UInt16, _ body: (inout AttributeEncoder) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        body(&self)
        patchHeader(at: start, type: type | AttributeFlag.nested)
    }

    private mutating func put(_ type: UInt16, _ payload: [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        bytes.append(contentsOf: payload)
        patchHeader(at: start, type: type)
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    private mutating func patchHeader(at start: Int, type: UInt16) {
        let length = UInt16(truncatingIfNeeded: bytes.count - start)
        bytes[start] = UInt8(length & 0xff)
        bytes[start + 1] = UInt8(length >> 8)
        bytes[start + 2] = UInt8(type & 0xff)
        bytes[start + 3] = UInt8(type >> 8)
    }
}
