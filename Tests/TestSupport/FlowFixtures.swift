import Conntrack
import IPAddressing

/// Flows that exercise every branch of the compact forms: the common IPv4 TCP flow, and
/// ICMP, UDP, NAT both ways, SYNPROXY, a helper, a zone, IPv6 and a bare flow, which the
/// compact forms must either hold exactly or decline.
public enum FlowFixtures {
    public static let tcp: Flow = {
        var f = Flow(original: Tuple(source: .v4(0x0a40_0001), destination: .v4(0xac14_0001), protocolNumber: IPProtocolNumber.tcp,
                                     sourcePort: 40000, destinationPort: 80))
        f.status = [.seenReply, .assured, .confirmed]
        f.timeout = 600
        f.mark = 0
        f.id = 2395713667
        f.protocolInfo = .tcp(TCPInfo(state: .established, windowScaleOriginal: 7, windowScaleReply: 0,
                                      flagsOriginal: TCPFlags(flags: 0x23, mask: 0), flagsReply: TCPFlags(flags: 0, mask: 0)))
        f.synproxy = Synproxy(initialSequence: 0, initialTimestamp: 0, timestampOffset: 0)
        return f
    }()

    public static var flows: [Flow] {
        var icmp = Flow(original: Tuple(source: .v4(1), destination: .v4(2), protocolNumber: IPProtocolNumber.icmp,
                                        icmpType: 8, icmpCode: 0, icmpID: 77))
        icmp.status = [.confirmed]
        let udp = Flow(original: Tuple(source: .v4(3), destination: .v4(4), protocolNumber: IPProtocolNumber.udp, sourcePort: 53))
        var natted = tcp
        natted.reply?.destination = .v4(0xcb00_7163)
        natted.reply?.destinationPort = 61000
        var synproxy = tcp
        synproxy.synproxy = Synproxy(initialSequence: 1, initialTimestamp: 2, timestampOffset: 3)
        var helper = tcp
        helper.helper = Helper(name: "ftp")
        var zoned = udp
        zoned.original?.zone = 3
        let v6 = Flow(original: Tuple(source: IPAddress("2001:db8::1")!, destination: IPAddress("2001:db8::2")!,
                                      protocolNumber: IPProtocolNumber.tcp, sourcePort: 1, destinationPort: 2))
        var bare = Flow(family: AddressFamily.inet)
        bare.original = udp.original
        bare.reply = udp.reply
        var icmpNatted = icmp
        icmpNatted.reply?.destination = .v4(9)
        icmpNatted.status = [.confirmed, .sourceNATDone]
        var dnat = tcp
        dnat.reply?.source = .v4(0x0a00_0063)
        dnat.reply?.sourcePort = 8080
        dnat.status = [.confirmed, .destinationNATDone]
        return [tcp, icmp, udp, natted, synproxy, helper, zoned, v6, bare, icmpNatted, dnat]
    }
}
