import StateSync
import Testing

/// Inputs the fuzzers (Sources/FuzzHarnesses) found, kept as regressions.
@Suite struct SyncFuzzFindingsTests {
    static func flowMessage(helper: [UInt8]) -> [UInt8] {
        let tlv: [UInt8] = [0, UInt8(4 + helper.count), 0, 27] + helper
        let padded = tlv + [UInt8](repeating: 0, count: (4 - tlv.count % 4) % 4)
        let length = 8 + padded.count
        return [0x10, 0, UInt8(length >> 8), UInt8(length & 0xff), 0, 0, 3, 0xf0] + padded
    }

    /// A helper name that is not UTF-8 was read with replacement characters, and the
    /// message, sent on, no longer fitted the attribute's limit. It is now a malformed
    /// payload, counted; the control, a UTF-8 name, decodes.
    @Test func helperNameThatIsNotUTF8IsRefused() {
        var r = SyncReceiver()
        let out = r.receive(datagram: Self.flowMessage(helper: [0xff, 0xfe, 0x41, 0]))
        guard case .malformedPayload(_, let e) = out.first else { Issue.record("accepted: \(out)"); return }
        #expect(e == .notText(type: 27))
        #expect(r.counters.malformedPayload == 1)

        var control = SyncReceiver()
        guard case .message(let m) = control.receive(datagram: Self.flowMessage(helper: Array("ftp".utf8) + [0])).first,
              case .flow(let f) = m.body else { Issue.record("control refused"); return }
        #expect(f.helper == "ftp")
    }
}
