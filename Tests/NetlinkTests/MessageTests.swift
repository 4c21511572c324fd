import Netlink
import Testing

@Suite struct MessageTests {
    @Test func batchLaysMessagesEndToEnd() {
        var b = MessageBatch()
        b.append(type: 0x100, flags: [.request, .ack], sequence: 7) { $0.bytes.append(contentsOf: [2, 0, 0, 0]) }
        b.append(type: 0x102, flags: [.request], sequence: 8) { e in
            e.bytes.append(contentsOf: [2, 0, 0, 0])
            e.uint32BE(3, 1)
        }
        #expect(b.sequences == [7, 8])
        let msgs = Array(MessageReader(b.bytes))
        #expect(msgs.count == 2)
        #expect(msgs[0].header == NetlinkHeader(length: 20, type: 0x100, flags: [.request, .ack], sequence: 7))
        #expect(msgs[1].header.length == 28)
        #expect(msgs[1].payload == 36..<48)
    }

    @Test func readerRejectsBadLengths() {
        var b = MessageBatch()
        b.append(type: 0x100, flags: [.request], sequence: 1) { _ in }
        var bytes = b.bytes
        bytes[0] = 200
        var r = MessageReader(bytes)
        #expect(r.next() == nil)
        #expect(r.error == .badMessageLength(offset: 0, length: 200, available: 16))
        var short = MessageReader(Array(bytes.prefix(10)))
        #expect(short.next() == nil)
        #expect(short.error == .truncatedHeader(offset: 0, available: 10))
        bytes[0] = 4
        var tiny = MessageReader(bytes)
        #expect(tiny.next() == nil)
        #expect(tiny.error == .badMessageLength(offset: 0, length: 4, available: 16))
    }

    @Test func errorMessageWithExtendedAck() throws {
        // NLMSG_ERROR, capped, with ack TLVs: errno -EINVAL, echoed header, then MSG "bad".
        var b = MessageBatch()
        b.append(type: NetlinkMessageType.error, flags: [.capped, .ackTLVs], sequence: 9) { e in
            e.bytes.append(contentsOf: [0xea, 0xff, 0xff, 0xff]) // -22
            var echoed = [UInt8](repeating: 0, count: 16)
            NetlinkHeaderCodec.write(NetlinkHeader(length: 40, type: 0x100, flags: [.request], sequence: 9), into: &echoed, at: 0)
            e.bytes.append(contentsOf: echoed)
            e.string(ExtendedAckAttribute.message, "bad")
        }
        let m = try #require(MessageReader(b.bytes).first { _ in true })
        let err = try NetlinkErrorMessage.decode(b.bytes, m)
        #expect(err.errno == 22)
        #expect(err.request.sequence == 9)
        #expect(err.extendedMessage == "bad")
    }

    @Test func truncatedErrorMessageIsTyped() {
        var b = MessageBatch()
        b.append(type: NetlinkMessageType.error, flags: [], sequence: 1) { $0.bytes.append(contentsOf: [0, 0, 0, 0]) }
        let m = MessageReader(b.bytes).first { _ in true }!
        #expect(throws: NetlinkDecodingError.self) { try NetlinkErrorMessage.decode(b.bytes, m) }
    }

    @Test func bufferPolicyDoublesToItsMaximum() {
        let p = ReceiveBufferPolicy(initial: 1000, maximum: 5000)
        #expect(p.grown(from: 1000) == 2000)
        #expect(p.grown(from: 3000) == 5000)
        #expect(p.grown(from: 5000) == nil)
    }
}
