import Conntrack
import Netlink
import TestSupport
import Testing
import IPAddressing

/// Messages captured from the real conntrack(8) 1.4.7 and the kernel
/// (scripts/capture-vectors.sh) decode, re-encode byte for byte, and print as it printed.
@Suite struct GoldenVectorTests {
    static let flowRequestCases = Vectors.names.filter { name in
        Vectors.load(name).sentMessages.contains { isFlowMessageWithAttributes($0) }
    }

    static func isFlowMessageWithAttributes(_ m: [UInt8]) -> Bool {
        let type = UInt16(m[4]) | UInt16(m[5]) << 8
        return type >> 8 == ConntrackMessageType.subsystemConntrack && m.count > NetlinkHeader.size + NetfilterHeader.size
            && type != ConntrackMessageType.getStats
    }

    @Test func everyCaptureIsPresent() {
        #expect(Vectors.names.count >= 18)
        #expect(Self.flowRequestCases.count >= 12)
    }

    @Test(arguments: flowRequestCases)
    func requestReencodesByteForByte(name: String) throws {
        for message in Vectors.load(name).sentMessages where Self.isFlowMessageWithAttributes(message) {
            let header = NetlinkHeaderCodec.read(message, at: 0)
            let flow = try FlowCodec.decode(message, payload: NetlinkHeader.size..<message.count, unknown: .strict)
            var batch = MessageBatch()
            batch.append(type: header.type, flags: header.flags, sequence: header.sequence, portID: header.portID) {
                FlowCodec.encode(flow, into: &$0)
            }
            // libmnl leaves stale bytes in some attribute padding; padding carries no meaning.
            #expect(batch.bytes == NetlinkPadding.zeroed(message, bodyOffset: NetlinkHeader.size + NetfilterHeader.size), "\(name)")
        }
    }

    @Test func tcpCreateDecodesToTheRequestedFlow() throws {
        let m = try #require(Vectors.load("tcp4-create").sentMessages.first)
        let flow = try FlowCodec.decode(m, payload: NetlinkHeader.size..<m.count)
        #expect(flow.family == AddressFamily.inet)
        #expect(flow.original == Tuple(source: IPAddress("10.1.1.1")!, destination: IPAddress("10.2.2.2")!,
                                       protocolNumber: 6, sourcePort: 1000, destinationPort: 80))
        #expect(flow.reply == flow.original?.inverted)
        #expect(flow.status == [.seenReply, .assured, .confirmed])
        #expect(flow.timeout == 100)
        #expect(flow.mark == 7)
        #expect(flow.protocolInfo?.tcp?.state == .established)
    }

    /// What the kernel answered to conntrack -L prints exactly as conntrack printed it,
    /// except delta-time, which depends on the moment of printing.
    @Test(arguments: ["dump-all", "dump-ipv6", "dump-zone", "tcp4-get"])
    func kernelRepliesPrintLikeConntrack(name: String) throws {
        let x = Vectors.load(name)
        var printed: [String] = []
        for m in x.receivedMessages {
            let type = UInt16(m[4]) | UInt16(m[5]) << 8
            guard type == ConntrackMessageType.new else { continue }
            let flow = try FlowCodec.decode(m, payload: NetlinkHeader.size..<m.count)
            printed.append(FlowPrinter().format(flow))
        }
        func stripDelta(_ s: String) -> String {
            s.split(separator: " ").filter { !$0.hasPrefix("delta-time=") }.joined(separator: " ")
        }
        let expected = name == "dump-zone" ? x.stdout : x.stdout
        #expect(!printed.isEmpty)
        if name == "dump-zone" {
            // conntrack -L -w filters in userspace: its output is the zone-3 subset.
            let subset = printed.filter { $0.contains("zone=3") }
            #expect(subset.map(stripDelta) == expected.map(stripDelta))
        } else {
            #expect(printed.map(stripDelta) == expected.map(stripDelta))
        }
    }

    @Test func deltaTimeComesFromTheInjectedClock() throws {
        let x = Vectors.load("dump-all")
        let m = try #require(x.receivedMessages.first { UInt16($0[4]) | UInt16($0[5]) << 8 == ConntrackMessageType.new })
        let flow = try FlowCodec.decode(m, payload: NetlinkHeader.size..<m.count)
        let start = Int64(try #require(flow.timestamp?.start) / 1_000_000_000)
        var printer = FlowPrinter()
        printer.now = { start + 42 }
        #expect(printer.format(flow).contains(" delta-time=42 use="))
    }

    @Test func kernelAckAndDoneAreRecognised() throws {
        let x = Vectors.load("tcp4-create")
        let ack = try #require(x.receivedMessages.first)
        var reader = MessageReader(ack)
        let next = reader.next()
        let view = try #require(next)
        #expect(view.header.isError)
        let e = try NetlinkErrorMessage.decode(ack, view)
        #expect(e.errno == 0)
    }
}

/// Expectations made by the FTP helper and by `conntrack -I expect`.
@Suite struct ExpectationVectorTests {
    static func messages(_ name: String, type: UInt16, sent: Bool) -> [[UInt8]] {
        let x = Vectors.load(name)
        return (sent ? x.sentMessages : x.receivedMessages).filter { UInt16($0[4]) | UInt16($0[5]) << 8 == type }
    }

    @Test func createRequestReencodesByteForByte() throws {
        let m = try #require(Self.messages("expect-create", type: ConntrackMessageType.expectNew, sent: true).first)
        let header = NetlinkHeaderCodec.read(m, at: 0)
        let x = try ExpectationCodec.decode(m, payload: NetlinkHeader.size..<m.count, unknown: .strict)
        #expect(x.master?.destinationPort == 21)
        #expect(x.timeout == 100)
        var batch = MessageBatch()
        batch.append(type: header.type, flags: header.flags, sequence: header.sequence, portID: header.portID) {
            ExpectationCodec.encode(x, into: &$0)
        }
        #expect(batch.bytes == NetlinkPadding.zeroed(m, bodyOffset: NetlinkHeader.size + NetfilterHeader.size))
    }

    @Test(arguments: ["expect-dump", "expect-dump-after-create"])
    func kernelExpectationsPrintLikeConntrack(name: String) throws {
        let printed = try Self.messages(name, type: ConntrackMessageType.expectNew, sent: false).map {
            ExpectationPrinter().format(try ExpectationCodec.decode($0, payload: NetlinkHeader.size..<$0.count))
        }
        #expect(!printed.isEmpty)
        #expect(printed == Vectors.load(name).stdout)
    }

    @Test func helperMasterFlowPrintsWithItsHelper() throws {
        let x = Vectors.load("ftp-master-dump")
        let flows = try Self.messages("ftp-master-dump", type: ConntrackMessageType.new, sent: false).map {
            try FlowCodec.decode($0, payload: NetlinkHeader.size..<$0.count)
        }
        #expect(flows.first?.helper?.name == "ftp")
        func stripDelta(_ s: String) -> String { s.split(separator: " ").filter { !$0.hasPrefix("delta-time=") }.joined(separator: " ") }
        #expect(flows.map { stripDelta(FlowPrinter().format($0)) } == x.stdout.map(stripDelta))
    }
}
