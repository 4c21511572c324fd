import Conntrack
import Netlink
import TandemCLI
import TestSupport
import Testing
import IPAddressing

@Suite struct ConntrackArgumentsTests {
    @Test func listWithFilters() throws {
        let a = try ConntrackArguments.parse(["-L", "-p", "tcp", "-s", "10.0.0.0/8", "--dport", "22", "-o", "extended,id", "-m", "7/0xff"])
        #expect(a.command == .list)
        #expect(a.table == .conntrack)
        #expect(a.protocolNumber == 6)
        #expect(a.originalSource == AddressFilter(address: IPAddress("10.0.0.0")!, prefix: 8))
        #expect(a.destinationPort == 22)
        #expect(a.extendedOutput && a.showID)
        #expect(a.mark == 7 && a.markMask == 0xff)
    }

    @Test func tableFollowsTheCommand() throws {
        #expect(try ConntrackArguments.parse(["-L", "expect"]).table == .expect)
        #expect(try ConntrackArguments.parse(["-E", "expect"]).table == .expect)
        #expect(try ConntrackArguments.parse(["-F", "conntrack"]).table == .conntrack)
    }

    @Test func longOptionsWithEqualsAndGluedShortOptions() throws {
        let a = try ConntrackArguments.parse(["--dump", "--protonum=udp", "-d192.168.1.1"])
        #expect(a.protocolNumber == 17)
        #expect(a.originalDestination?.address == IPAddress("192.168.1.1"))
    }

    @Test(arguments: [
        (["-L", "-x"], "unknown option `-x'"),
        (["-L", "-o", "save"], "output format `save' is not supported by tandem yet"),
        (["-L", "--foo"], "unknown option `--foo'"),
        (["-L", "-L"], "Invalid commands combination"),
        (["-I", "-p", "tcp", "-s", "1.1.1.1"], "You need to supply the `--timeout' option for this command"),
        (["-L", "-f", "ipv7"], "`ipv7' unsupported protocol"),
        (["-L", "-p", "foo"], "`foo' unsupported protocol"),
        (["-L", "-s"], "option `-s' requires an argument"),
        (["-L", "-s", "nonsense"], "Invalid IP address `nonsense'"),
        (["-L", "--sport", "99999"], "Bad parameter `99999' for port"),
        (["-I", "-p", "tcp", "-s", "1.1.1.1", "-d", "2.2.2.2", "-t", "5", "--state", "BOGUS"], "unknown TCP state `BOGUS'"),
    ])
    func usageErrorsAreWordedLikeConntrack(argv: [String], message: String) {
        #expect(throws: ConntrackUsageError(message)) { try ConntrackArguments.parse(argv) }
    }

    @Test func usageErrorExitsWithTwo() {
        let out = CapturedOutput()
        #expect(ConntrackTool(output: out).run(["-L", "--foo"]) == 2)
        #expect(out.stderr == [
            "conntrack v1.4.7 (conntrack-tools): unknown option `--foo'",
            "Try `conntrack -h' or 'conntrack --help' for more information.",
        ])
    }

    /// The flow `tandem conntrack -I` builds is byte-identical to what conntrack(8) sent
    /// for the same command line (captured in the vectors).
    @Test(arguments: [
        ("tcp4-create", "-I -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 80 --state ESTABLISHED -t 100 -u ASSURED,SEEN_REPLY -m 7"),
        ("udp4-create", "-I -p udp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 53 -t 30"),
        ("icmp4-create", "-I -p icmp -s 10.1.1.1 -d 10.2.2.2 --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 30"),
        ("icmp6-create", "-I -p icmpv6 -s ::1 -d ::2 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 5 -t 30"),
        ("tcp6-create-zone", "-I -p tcp -s 2001:db8::1 -d 2001:db8::2 --sport 5 --dport 6 --state SYN_SENT -t 30 -w 3"),
        ("sctp4-create", "-I -p sctp -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 --state ESTABLISHED --orig-vtag 10 --reply-vtag 11 -t 30"),
        ("gre4-create", "-I -p gre -s 10.1.1.1 -d 10.2.2.2 --srckey 5 --dstkey 6 -t 30"),
        ("udplite4-create", "-I -p udplite -s 10.1.1.1 -d 10.2.2.2 --sport 5 --dport 6 -t 30"),
        ("tcp4-create-reply", "-I -p tcp -s 10.3.3.3 -d 10.4.4.4 --sport 22 --dport 2222 -r 10.4.4.4 -q 10.9.9.9 --reply-port-src 2222 --reply-port-dst 22 --state ESTABLISHED -t 50 -m 1"),
        ("tcp4-get", "-G -p tcp -s 10.1.1.1 -d 10.2.2.2 --sport 1000 --dport 80"),
    ])
    func requestBytesEqualConntracks(vector: String, commandLine: String) throws {
        let argv = commandLine.split(separator: " ").map(String.init)
        let a = try ConntrackArguments.parse(argv)
        let captured = try #require(Vectors.load(vector).sentMessages.first)
        let header = NetlinkHeaderCodec.read(captured, at: 0)
        var flow = try #require(a.command == .get ? a.flowToGet() : a.flowToCreate())
        if let s = flow.status { flow.status = s.union(.confirmed) }
        var batch = MessageBatch()
        batch.append(type: header.type, flags: header.flags, sequence: header.sequence) { FlowCodec.encode(flow, into: &$0) }
        #expect(batch.bytes == NetlinkPadding.zeroed(captured, bodyOffset: 20))
        #expect(header.flags == (a.command == .get ? [.request, .ack] : [.request, .create, .excl, .ack]))
    }
}
