import IPAddressing
/// Attribute numbers and sizes of conntrackd's TLVs (spec §2.2, §2.6).
public enum SyncAttribute {
    public enum Flow {
        public static let ipv4: UInt16 = 0, ipv6: UInt16 = 1, l4proto: UInt16 = 2, port: UInt16 = 3
        public static let tcpState: UInt16 = 4, status: UInt16 = 5, timeout: UInt16 = 6, mark: UInt16 = 7
        public static let masterIPv4: UInt16 = 8, masterIPv6: UInt16 = 9, masterL4proto: UInt16 = 10, masterPort: UInt16 = 11
        public static let snatIPv4: UInt16 = 12, dnatIPv4: UInt16 = 13, spatPort: UInt16 = 14, dpatPort: UInt16 = 15
        public static let natSeqAdj: UInt16 = 16, sctpState: UInt16 = 17, sctpVtagOrig: UInt16 = 18, sctpVtagRepl: UInt16 = 19
        public static let dccpState: UInt16 = 20, dccpRole: UInt16 = 21, icmpType: UInt16 = 22, icmpCode: UInt16 = 23
        public static let icmpID: UInt16 = 24, tcpWscaleOrig: UInt16 = 25, tcpWscaleRepl: UInt16 = 26
        public static let helperName: UInt16 = 27, labels: UInt16 = 28, snatIPv6: UInt16 = 29, dnatIPv6: UInt16 = 30
        public static let synproxy: UInt16 = 31, zone: UInt16 = 32
        public static let count: UInt16 = 33

        /// nta_len per type: positive = exact, negative = variable with that maximum.
        static let sizes: [Int] = [12, 36, 5, 8, 5, 8, 8, 8, 12, 36, 5, 8, 8, 8, 6, 6, 28, 5, 8, 8, 5, 5, 5, 5, 6, 5, 5,
                                   -16, -1028, 20, 20, 16, 6]
    }

    public enum Expectation {
        public static let masterIPv4: UInt16 = 0, masterIPv6: UInt16 = 1, masterL4proto: UInt16 = 2, masterPort: UInt16 = 3
        public static let expectIPv4: UInt16 = 4, expectIPv6: UInt16 = 5, expectL4proto: UInt16 = 6, expectPort: UInt16 = 7
        public static let maskIPv4: UInt16 = 8, maskIPv6: UInt16 = 9, maskL4proto: UInt16 = 10, maskPort: UInt16 = 11
        public static let timeout: UInt16 = 12, flags: UInt16 = 13, `class`: UInt16 = 14
        public static let natIPv4: UInt16 = 15, natPort: UInt16 = 16, natL4proto: UInt16 = 17, natDir: UInt16 = 18
        public static let helperName: UInt16 = 19, function: UInt16 = 20
        public static let count: UInt16 = 21

        static let sizes: [Int] = [12, 36, 5, 8, 12, 36, 5, 8, 12, 36, 5, 8, 8, 8, 8, 12, 8, 5, 8, -16, -32]
    }
}

/// Walks a payload's TLVs with conntrackd's acceptance rules: any bad attribute refuses
/// the whole message; a trailing remainder of 4 bytes or less is ignored.
struct SyncTLVReader {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let end: Int
    let sizes: [Int]

    struct TLV {
        var type: UInt16
        var value: Range<Int>
    }

    mutating func next() throws(SyncPayloadError) -> TLV? {
        guard end - position > 4 else { return nil }
        let length = Int(SyncBytes.be16(bytes, position))
        let type = SyncBytes.be16(bytes, position + 2)
        let remaining = end - position
        if length > remaining { throw .attributeTooLong(offset: position, length: length, remaining: remaining) }
        if length < 4 { throw .attributeTooShort(offset: position, length: length) }
        guard Int(type) < sizes.count else { throw .unknownAttribute(type: type) }
        let size = sizes[Int(type)]
        if size > 0 && length != size { throw .wrongSize(type: type, length: length, expected: size) }
        if size < 0 && length > -size { throw .tooLarge(type: type, length: length, maximum: -size) }
        let tlv = TLV(type: type, value: (position + 4)..<(position + length))
        position += (length + 3) & ~3
        return tlv
    }
}

/// Appends TLVs: big-endian header, zero padding to 4 bytes.
struct SyncTLVWriter {
    var bytes: [UInt8]

    mutating func put(_ type: UInt16, _ body: (inout [UInt8]) -> Void) {
        let start = bytes.count
        // Byte by byte: an array literal here was a heap allocation per attribute.
        bytes.append(0)
        bytes.append(0)
        bytes.append(UInt8(type >> 8))
        bytes.append(UInt8(type & 0xff))
        body(&bytes)
        let length = bytes.count - start
        bytes[start] = UInt8(length >> 8)
        bytes[start + 1] = UInt8(length & 0xff)
        while bytes.count & 3 != 0 { bytes.append(0) }
    }

    mutating func u8(_ type: UInt16, _ v: UInt8) { put(type) { $0.append(v) } }
    mutating func be32(_ type: UInt16, _ v: UInt32) { put(type) { SyncBytes.appendBE32(v, to: &$0) } }
    mutating func be16(_ type: UInt16, _ v: UInt16) { put(type) { SyncBytes.appendBE16(v, to: &$0) } }
    mutating func le16(_ type: UInt16, _ v: UInt16) { put(type) { $0.append(UInt8(v & 0xff)); $0.append(UInt8(v >> 8)) } }
    mutating func string(_ type: UInt16, _ s: String) { put(type) { $0.append(contentsOf: s.utf8); $0.append(0) } }
    mutating func addresses(_ type: UInt16, _ a: IPAddressPair) {
        put(type) { a.source.append(to: &$0); a.destination.append(to: &$0) }
    }
    mutating func ports(_ type: UInt16, _ p: SyncPorts) {
        put(type) { SyncBytes.appendBE16(p.source, to: &$0); SyncBytes.appendBE16(p.destination, to: &$0) }
    }
}

import Conntrack

struct IPAddressPair {
    var source: IPAddress
    var destination: IPAddress
}

extension SyncTLVReader {
    func u8(_ t: TLV) -> UInt8 { bytes[t.value.lowerBound] }
    func be16(_ t: TLV) -> UInt16 { SyncBytes.be16(bytes, t.value.lowerBound) }
    func le16(_ t: TLV) -> UInt16 { UInt16(bytes[t.value.lowerBound]) | UInt16(bytes[t.value.lowerBound + 1]) << 8 }
    func be32(_ t: TLV) -> UInt32 { SyncBytes.be32(bytes, t.value.lowerBound) }
    func be32(_ t: TLV, word: Int) -> UInt32 { SyncBytes.be32(bytes, t.value.lowerBound + 4 * word) }
    func ports(_ t: TLV) -> SyncPorts { SyncPorts(source: SyncBytes.be16(bytes, t.value.lowerBound), destination: SyncBytes.be16(bytes, t.value.lowerBound + 2)) }
    func address(_ t: TLV, offset: Int, size: Int) -> IPAddress {
        IPAddress(raw: UnsafeRawBufferPointer(rebasing: bytes[(t.value.lowerBound + offset)..<(t.value.lowerBound + offset + size)]))!
    }
    func pair(_ t: TLV, size: Int) -> (IPAddress, IPAddress) { (address(t, offset: 0, size: size), address(t, offset: size, size: size)) }
    func string(_ t: TLV) throws(SyncPayloadError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[t.value])
        let cut = slice.firstIndex(of: 0) ?? slice.count
        guard let s = String(validating: UnsafeRawBufferPointer(rebasing: slice[0..<cut]), as: UTF8.self) else {
            throw .notText(type: t.type)
        }
        return s
    }
}
