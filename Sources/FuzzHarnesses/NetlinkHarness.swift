import Conntrack
import Netlink

/// A netlink receive buffer as the ctnetlink socket hands it over: messages split by
/// MessageReader, errors decoded, conntrack and expectation bodies decoded (leniently,
/// strictly, and by the sender's packed fast path) and printed as conntrack(8) would.
enum NetlinkHarness {
    static let target = FuzzTarget(
        name: "netlink-ctnetlink",
        summary: "a netlink buffer: MessageReader, NLMSG_ERROR with extended ACK, ctnetlink flows (general and packed decoders, printers) and expectations",
        run: run)

    static let errorType: UInt16 = 2
    static let ctnetlink: UInt16 = 1
    static let ctnetlinkExpectation: UInt16 = 2

    static func run(_ bytes: [UInt8]) {
        var reader = MessageReader(bytes)
        var count = 0
        while let m = reader.next() {
            count += 1
            invariant(m.payload.lowerBound >= 0 && m.payload.upperBound <= bytes.count, "payload \(m.payload) outside \(bytes.count) bytes")
            if m.header.type == errorType {
                // In a harness a typed decoding error is the expected answer to junk (only a
                // trap or a broken invariant is a finding); no flow exists here to lose.
                _ = try? NetlinkErrorMessage.decode(bytes, m)
                continue
            }
            switch m.header.type >> 8 {
            case ctnetlink: flow(bytes, m)
            case ctnetlinkExpectation:
                if let x = try? ExpectationCodec.decode(bytes, payload: m.payload) { _ = ExpectationXMLPrinter.format(x) }
                _ = try? ExpectationCodec.decode(bytes, payload: m.payload, unknown: .strict)
            default: break
            }
        }
        invariant(count <= bytes.count / 16, "\(count) messages from \(bytes.count) bytes")
    }

    static func flow(_ bytes: [UInt8], _ m: NetlinkMessageView) {
        let general = Result { () throws(NetlinkDecodingError) in try FlowCodec.decode(bytes, payload: m.payload) }
        _ = try? FlowCodec.decode(bytes, payload: m.payload, unknown: .strict)
        let packed = bytes.withUnsafeBytes { raw in
            CompactFlow.Packed(eventPayload: UnsafeRawBufferPointer(rebasing: raw[m.payload]))
        }
        switch general {
        case .success(let f):
            _ = FlowPrinter(showLayer3: true, showID: true, showTimestamps: true).format(f, event: .update)
            _ = FlowXMLPrinter(showTimestamps: true).format(f)
            _ = FlowSavePrinter().format(f)
        case .failure(let e):
            // The packed decoder promises to accept only what the general one accepts.
            invariant(packed == nil, "packed decoder accepted an event the general decoder refuses: \(e)")
        }
    }
}
