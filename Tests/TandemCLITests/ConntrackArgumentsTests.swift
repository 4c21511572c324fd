import Conntrack
import Netlink
import TandemCLI
import TestSupport
import Testing
import IPAddressing
#if canImport(Glibc)
import Glibc
#endif

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
        (["-L", "--d"], "unknown option `--d'"),
        (["-L", "--src-nat=1.2.3.4"], "an address attached to `--src-nat' is ignored by conntrack 1.4.7 and not supported: write `--src-nat 1.2.3.4'"),
        (["-L", "-j", "-n"], "cannot specify `--src-nat' or `--dst-nat' with `--any-nat'"),
        (["-C", "-c", "1"], "Illegal option `--secmark' with this command"),
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

    @Test func addAndSaveOutput() throws {
        let a = try ConntrackArguments.parse(["-A", "-p", "tcp", "-s", "1.1.1.1", "-d", "2.2.2.2", "--sport", "1", "--dport", "2", "--state", "LISTEN", "-t", "5"])
        #expect(a.command == .add && a.flowToCreate() != nil)
        #expect(try ConntrackArguments.parse(["-L", "-o", "save"]).saveOutput)
        // The control: without -o save the listing is the usual one.
        #expect(try !ConntrackArguments.parse(["-L"]).saveOutput)
        // conntrack exits with OTHER_PROBLEM (1, no "Try" line) for save with another format.
        #expect(throws: ConntrackUsageError("cannot combine save output with any other output type, use -o save only", status: 1)) {
            try ConntrackArguments.parse(["-L", "-o", "save,xml"])
        }
        let out = CapturedOutput()
        #expect(ConntrackTool(output: out).run(["-L", "-o", "save,id"]) == 1)
        #expect(out.stderr == ["conntrack v1.4.7 (conntrack-tools): cannot combine save output with any other output type, use -o save only"])
    }

    /// getopt_long's unique prefixes, as conntrack takes them; several spellings of one
    /// option are one meaning.
    @Test func longOptionsMayBeAbbreviated() throws {
        let a = try ConntrackArguments.parse(["--dum", "--proto", "tcp", "--orig-port-s", "5", "--reply-d", "1.2.3.4", "--fam=ipv4"])
        #expect(a.command == .list && a.protocolNumber == 6 && a.sourcePort == 5 && a.family == 2)
        #expect(a.replyDestination?.address == IPAddress("1.2.3.4"))
        #expect(try ConntrackArguments.parse(["-L", "--orig-s", "1.1.1.1"]).originalSource?.address == IPAddress("1.1.1.1"))
        // The control: a prefix of two options is unknown, as with conntrack.
        #expect(throws: ConntrackUsageError("unknown option `--re'")) { try ConntrackArguments.parse(["-L", "--re", "x"]) }
    }

    /// --src-nat/--dst-nat/--any-nat take their address only as the next argument, and
    /// select any NAT of their kind without one.
    @Test func natOptionsWithoutAnAddress() throws {
        let bare = try ConntrackArguments.parse(["-L", "--src-nat", "-p", "tcp"])
        #expect(bare.sourceNATGiven && bare.sourceNAT == nil && bare.protocolNumber == 6)
        let given = try ConntrackArguments.parse(["-L", "-g", "10.0.0.9"])
        #expect(given.destinationNATGiven && given.destinationNAT == IPAddress("10.0.0.9"))
        let o = Tuple(source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!, protocolNumber: 6, sourcePort: 1, destinationPort: 2)
        var snatted = Flow(original: o)
        snatted.reply?.destination = IPAddress("192.0.2.1")!
        let plain = Flow(original: o)
        #expect(bare.selects(snatted) && !bare.selects(plain))
        let any = try ConntrackArguments.parse(["-L", "-j"])
        #expect(any.selects(snatted) && !any.selects(plain))
        #expect(!given.selects(snatted))
    }

    /// -U -m VALUE/MASK: conntrack 1.4.7 sends (mark & ~MASK) ^ VALUE, and skips flows
    /// that would not change.
    @Test func updateMarkWithMask() throws {
        let o = Tuple(source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!, protocolNumber: 17, sourcePort: 1, destinationPort: 2)
        var flow = Flow(original: o)
        flow.mark = 0xAB
        let masked = try ConntrackArguments.parse(["-U", "-m", "0x10/0xF0"])
        #expect(masked.updateRequest(for: flow)?.mark == 0x1B)
        let plain = try ConntrackArguments.parse(["-U", "-m", "7"])
        #expect(plain.updateRequest(for: flow)?.mark == 7)
        // The control: a request that changes nothing is not sent.
        let same = try ConntrackArguments.parse(["-U", "-m", "0xA0/0xF0"])
        #expect(same.updateRequest(for: flow) == nil)
    }

    @Test func loadFileWordsAndRefusedCommands() throws {
        #expect(ConntrackTool.words("-A -p tcp  \"a b\" -t\t5\n") == ["-A", "-p", "tcp", "a b", "-t", "5"])
        #expect(ConntrackTool.notLoadable(try ConntrackArguments.parse(["-L"])) == "-L")
        #expect(ConntrackTool.notLoadable(try ConntrackArguments.parse(["-F", "expect"])) == "-F expect")
        #expect(ConntrackTool.notLoadable(try ConntrackArguments.parse(["-F"])) == nil)
        let path = "/tmp/tdn-load-\(getpid()).txt"
        #expect(Shell.run(["sh", "-c", "printf '# comment\\n\\n-F\\n-L\\n' > \(path)"]).status == 0)
        defer { unlink(path) }
        let out = CapturedOutput()
        #expect(ConntrackTool(output: out).run(["-R", path]) == 2)
        #expect(out.stderr.first == "conntrack v1.4.7 (conntrack-tools): Cannot use command `-L' with --load-file")
        let missing = CapturedOutput()
        #expect(ConntrackTool(output: missing).run(["--load-file", "/nonexistent/tdn"]) == 2)
        #expect(missing.stderr.first == "conntrack v1.4.7 (conntrack-tools): Failed to open file /nonexistent/tdn for reading")
    }

    /// docs/compatibility.md lists every option spelling the parser knows, and the
    /// conntrack 1.4.7 options it refuses, once each.
    @Test func compatibilityTableListsEveryOption() {
        let rows = CompatibilityTable.rows(section: "tandem conntrack: options")
        let documented = rows.flatMap(\.names)
        #expect(rows.count >= 50)
        #expect(Set(documented).count == documented.count, "an option is listed twice")
        let known = ConntrackArguments.spellings.union(ConntrackArguments.unsupportedSpellings)
        #expect(known.subtracting(documented).sorted() == [], "options without a row")
        #expect(Set(documented).subtracting(known).sorted() == [], "rows for no option")
        for r in rows where r.names.contains(where: ConntrackArguments.unsupportedSpellings.contains) {
            #expect(r.status == "refused", "\(r.line)")
            for name in r.names {
                #expect(throws: ConntrackUsageError.self) { try ConntrackArguments.parse(["-L", name, "1"]) }
            }
        }
    }
}

