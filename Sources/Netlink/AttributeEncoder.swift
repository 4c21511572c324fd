/// Appends netlink attributes to a byte buffer. Integers in conntrack payloads are
/// big-endian; the attribute headers are host order (little-endian here). Bytes are
/// appended in place: building a batch of thousands of flows makes no temporary arrays.
public struct AttributeEncoder {
    public var bytes: [UInt8]

    public init(bytes: [UInt8] = []) { self.bytes = bytes }

    public mutating func uint8(_ type: UInt16, _ v: UInt8) {
        header(type, payload: 1)
        bytes.append(v)
        pad()
    }

    public mutating func uint16BE(_ type: UInt16, _ v: UInt16) {
        header(type, payload: 2)
        bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff))
        pad()
    }

    public mutating func uint32BE(_ type: UInt16, _ v: UInt32) {
        header(type, payload: 4)
        appendBE(UInt64(v), count: 4)
    }

    public mutating func uint64BE(_ type: UInt16, _ v: UInt64) {
        header(type, payload: 8)
        appendBE(v, count: 8)
    }

    public mutating func uint32Host(_ type: UInt16, _ v: UInt32) {
        header(type, payload: 4)
        bytes.append(UInt8(v & 0xff)); bytes.append(UInt8((v >> 8) & 0xff))
        bytes.append(UInt8((v >> 16) & 0xff)); bytes.append(UInt8(v >> 24))
    }

    /// A NUL-terminated string.
    public mutating func string(_ type: UInt16, _ s: String) {
        let utf8 = s.utf8
        header(type, payload: utf8.count + 1)
        bytes.append(contentsOf: utf8)
        bytes.append(0)
        pad()
    }

    public mutating func data(_ type: UInt16, _ payload: [UInt8]) {
        header(type, payload: payload.count)
        bytes.append(contentsOf: payload)
        pad()
    }

    /// An attribute whose payload `body` appends (for callers writing raw bytes, such as
    /// addresses); the length is patched afterwards.
    public mutating func raw(_ type: UInt16, _ body: (inout [UInt8]) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        body(&bytes)
        patchHeader(at: start, type: type)
        pad()
    }

    /// A nested attribute: `body` appends the children; the length is patched afterwards.
    public mutating func nested(_ type: UInt16, _ body: (inout AttributeEncoder) -> Void) {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        body(&self)
        patchHeader(at: start, type: type | AttributeFlag.nested)
    }

    @inline(__always)
    private mutating func header(_ type: UInt16, payload: Int) {
        let length = UInt16(truncatingIfNeeded: 4 + payload)
        bytes.append(UInt8(length & 0xff)); bytes.append(UInt8(length >> 8))
        bytes.append(UInt8(type & 0xff)); bytes.append(UInt8(type >> 8))
    }

    @inline(__always)
    private mutating func appendBE(_ v: UInt64, count: Int) {
        var shift = UInt64(8 * (count - 1))
        for _ in 0..<count {
            bytes.append(UInt8(truncatingIfNeeded: v >> shift))
            shift &-= 8
        }
    }

    @inline(__always)
    private mutating func pad() {
        while bytes.count & 3 != 0 { bytes.append(0) }
    }

    private mutating func patchHeader(at start: Int, type: UInt16) {
        let length = UInt16(truncatingIfNeeded: bytes.count - start)
        bytes[start] = UInt8(length & 0xff)
        bytes[start + 1] = UInt8(length >> 8)
        bytes[start + 2] = UInt8(type & 0xff)
        bytes[start + 3] = UInt8(type >> 8)
    }
}
