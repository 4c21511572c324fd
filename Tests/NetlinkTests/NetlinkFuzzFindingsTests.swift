import Netlink
import Testing

/// Inputs the fuzzers (Sources/FuzzHarnesses) found, kept as regressions.
@Suite struct NetlinkFuzzFindingsTests {
    static func errorMessage(code: [UInt8]) -> [UInt8] {
        var b = MessageBatch()
        b.append(type: NetlinkMessageType.error, flags: [], sequence: 3) { e in
            e.bytes.append(contentsOf: code)
            var echoed = [UInt8](repeating: 0, count: 16)
            NetlinkHeaderCodec.write(NetlinkHeader(length: 16, type: 0x100, flags: [.request], sequence: 3), into: &echoed, at: 0)
            e.bytes.append(contentsOf: echoed)
        }
        return b.bytes
    }

    /// The kernel sends -errno; INT32_MIN has no positive counterpart and trapped when
    /// negated. It now decodes (wrapped), and an ordinary code still decodes as before.
    @Test func errorCodeInt32MinDecodesWithoutTrapping() throws {
        let hostile = Self.errorMessage(code: [0x00, 0x00, 0x00, 0x80])
        let m = try #require(MessageReader(hostile).first { _ in true })
        #expect(try NetlinkErrorMessage.decode(hostile, m).errno == Int32.min)

        let control = Self.errorMessage(code: [0xfe, 0xff, 0xff, 0xff]) // -ENOENT
        let c = try #require(MessageReader(control).first { _ in true })
        #expect(try NetlinkErrorMessage.decode(control, c).errno == 2)
    }
}
