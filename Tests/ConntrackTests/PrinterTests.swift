import Conntrack
import Testing
import IPAddressing

@Suite struct PrinterTests {
    func flow(_ proto: UInt8, _ configure: (inout Tuple) -> Void = { _ in }) -> Flow {
        var t = Tuple(source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!, protocolNumber: proto)
        configure(&t)
        var f = Flow(original: t)
        f.timeout = 30
        f.status = [.confirmed]
        f.mark = 0
        f.use = 1
        return f
    }

    @Test func unknownProtocolHasNoLayer4Part() {
        let f = flow(112)
        #expect(FlowPrinter().format(f) == "unknown  112 30 src=10.0.0.1 dst=10.0.0.2 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 mark=0 use=1")
    }

    @Test func eventPrefixIsRightAligned() {
        var f = flow(17) { $0.sourcePort = 1; $0.destinationPort = 2 }
        f.status = [.confirmed, .seenReply, .assured]
        #expect(FlowPrinter().format(f, event: .new).hasPrefix("    [NEW] udp      17 30 src="))
        #expect(FlowPrinter().format(f, event: .destroy).hasPrefix("[DESTROY] udp"))
        #expect(FlowPrinter().format(f).hasSuffix("[ASSURED] mark=0 use=1"))
    }

    @Test func offloadWinsOverAssured() {
        var f = flow(6) { $0.sourcePort = 1; $0.destinationPort = 2 }
        f.status = [.seenReply, .assured, .offload]
        #expect(FlowPrinter().format(f).contains(" [OFFLOAD] mark=0"))
    }

    @Test func ipv6AddressesUseInetNtop() {
        #expect(IPAddress("2001:db8::1")!.description == "2001:db8::1")
        #expect(IPAddress("::ffff:10.0.0.1")!.description == "::ffff:10.0.0.1")
        #expect(IPAddress("10.0.0.300") == nil)
    }
}
