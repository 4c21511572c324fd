import Netlink
import TestSupport
import Testing

@Suite struct AttributeTests {
    @Test func encodeDecodeRoundTrip() {
        var e = AttributeEncoder()
        e.uint8(1, 0xab)
        e.uint16BE(2, 0x1234)
        e.uint32BE(3, 0xdeadbeef)
        e.uint64BE(4, 0x0102030405060708)
        e.string(5, "ftp")
        e.nested(6) { n in n.uint32BE(1, 7); n.nested(2) { m in m.uint8(1, 9) } }
        #expect(e.bytes.count % 4 == 0)
        AttributeDecoder.withDecoder(e.bytes) { d in
            var seen: [UInt16] = []
            while let a = d.next() {
                seen.append(a.type)
                switch a.type {
                case 1: #expect(d.uint8(a) == 0xab)
                case 2: #expect(d.uint16BE(a) == 0x1234)
                case 3: #expect(d.uint32BE(a) == 0xdeadbeef)
                case 4: #expect(d.uint64BE(a) == 0x0102030405060708)
                case 5: #expect(d.string(a) == "ftp")
                case 6:
                    #expect(a.isNested)
                    var n = d.nested(a)
                    let first = n.next()!
                    #expect(n.uint32BE(first) == 7)
                    let inner = n.next()!
                    var m = n.nested(inner)
                    #expect(m.uint8(m.next()!) == 9)
                    #expect(m.error == nil && n.error == nil)
                default: Issue.record("unexpected attribute \(a.type)")
                }
            }
            #expect(d.error == nil)
            #expect(seen == [1, 2, 3, 4, 5, 6])
        }
    }

    @Test func layoutIsHostOrderHeaderBigEndianPayload() {
        var e = AttributeEncoder()
        e.uint16BE(3, 80)
        #expect(e.bytes == [6, 0, 3, 0, 0, 80, 0, 0])
        var n = AttributeEncoder()
        n.nested(1) { $0.uint8(2, 6) }
        #expect(n.bytes == [12, 0, 1, 0x80, 5, 0, 2, 0, 6, 0, 0, 0])
    }

    @Test func truncatedHeaderIsAnError() {
        AttributeDecoder.withDecoder([8, 0, 1]) { d in
            #expect(d.next() == nil)
            #expect(d.error == .truncatedAttribute(offset: 0, available: 3))
        }
    }

    @Test func lengthPastEndIsAnError() {
        AttributeDecoder.withDecoder([200, 0, 1, 0, 1, 2, 3, 4]) { d in
            #expect(d.next() == nil)
            #expect(d.error == .attributeTooLong(offset: 0, length: 200, available: 8))
        }
    }

    @Test(arguments: [0, 1, 2, 3])
    func tooShortLengthIsAnError(length: UInt8) {
        AttributeDecoder.withDecoder([length, 0, 1, 0, 0, 0, 0, 0]) { d in
            #expect(d.next() == nil)
            #expect(d.error == .badAttributeLength(offset: 0, length: Int(length)))
        }
    }

    @Test func oddLengthIsPaddedAndLastPaddingMayBeMissing() {
        // A 5-byte attribute (1 byte payload) padded to 8, then one whose padding is cut.
        let bytes: [UInt8] = [5, 0, 1, 0, 7, 0, 0, 0, 5, 0, 2, 0, 9]
        AttributeDecoder.withDecoder(bytes) { d in
            let a = d.next()!
            #expect(d.uint8(a) == 7)
            let b = d.next()!
            #expect(d.uint8(b) == 9)
            #expect(d.next() == nil)
            #expect(d.error == nil)
        }
    }

    @Test func wrongPayloadSizeIsStickyAndYieldsZero() {
        var e = AttributeEncoder()
        e.uint16BE(1, 5)
        e.uint32BE(2, 6)
        AttributeDecoder.withDecoder(e.bytes) { d in
            let a = d.next()!
            #expect(d.uint32BE(a) == 0)
            #expect(d.error == .wrongPayloadSize(attribute: 1, expected: 4, actual: 2))
            #expect(d.next() == nil)
        }
    }

    @Test func nestingDepthIsBounded() {
        // 40 levels of nesting, each a single nested attribute.
        var bytes: [UInt8] = [4, 0, 1, 0]
        for _ in 0..<40 {
            let length = UInt16(bytes.count + 4)
            bytes = [UInt8(length & 0xff), UInt8(length >> 8), 1, 0x80] + bytes
        }
        func walk(_ d: inout AttributeDecoder) -> NetlinkDecodingError? {
            while let a = d.next() {
                if a.isNested {
                    var n = d.nested(a)
                    if let e = walk(&n) { return e }
                }
            }
            return d.error
        }
        AttributeDecoder.withDecoder(bytes) { d in
            #expect(walk(&d) == .nestingTooDeep(depth: AttributeDecoder.maximumDepth + 1))
        }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<5000 {
            let n = Int(rng.next() % 96)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            AttributeDecoder.withDecoder(bytes) { d in
                var count = 0
                while let a = d.next() {
                    count += 1
                    _ = d.uint32BE(a)
                    if a.isNested { var n = d.nested(a); while n.next() != nil {} }
                }
                #expect(count <= n / 4)
            }
        }
    }
}

