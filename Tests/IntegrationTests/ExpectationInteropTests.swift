import Conntrack
import Foundation
import TestSupport
import Testing
import IPAddressing

/// ExpectationSync between Tandem and conntrackd 1.4.7, both directions: an FTP data
/// expectation on the sender reaches the peer's `-e expect`, is committed into its kernel
/// after its master, and its removal propagates.
extension ConntrackdInteropTests {
    static let expectationLine = "proto=6 src=10.2.2.2 dst=10.1.1.1 sport=0 dport=40036 mask-src=255.255.255.255 mask-dst=255.255.255.255 "
        + "sport=0 dport=65535 master-src=10.1.1.1 master-dst=10.2.2.2 sport=45100 dport=21 class=0 helper=ftp"

    /// An FTP control flow with the ftp helper, and the data expectation the helper would
    /// make for `PORT 10,2,2,2,156,100`. The master goes in through netlink because
    /// conntrack(8) cannot name a helper, and the kernel takes expectations only for
    /// masters that have one.
    static func makeFTPExpectation(in ns: TestNamespace) throws {
        let connection = try ConntrackConnection(namespace: ns.name)
        var master = Flow(original: Tuple(source: IPAddress("10.1.1.1")!, destination: IPAddress("10.2.2.2")!, protocolNumber: 6,
                                          sourcePort: 45100, destinationPort: 21))
        master.reply = master.original!.inverted
        master.timeout = 300
        master.status = [.seenReply, .assured]
        master.protocolInfo = .tcp(TCPInfo(state: .established))
        master.helper = Helper(name: "ftp")
        let created = try connection.create([master])
        #expect(created.failed == 0, "\(created.failures)")
        let r = ns.tandem(["conntrack", "-I", "expect", "-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "45100", "--dport", "21",
                        "--tuple-src", "10.2.2.2", "--tuple-dst", "10.1.1.1", "--tuple-port-src", "0", "--tuple-port-dst", "40036",
                        "--mask-src", "255.255.255.255", "--mask-dst", "255.255.255.255", "--mask-port-src", "0",
                        "--mask-port-dst", "0xffff", "-t", "200"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    func replicateExpectation(_ pair: Pair, from: String, to: String) throws {
        let source = from == "a" ? pair.a : pair.b
        let target = to == "a" ? pair.a : pair.b
        usleep(1_500_000) // both daemons up and through the HELLO handshake
        try Self.makeFTPExpectation(in: source)
        var last: [String] = []
        #expect(pair.eventually { last = pair.query(from, ["-i", "expect"]); return last == [Self.expectationLine] },
                "\(from) -i expect:\n\(last.joined(separator: "\n"))")
        let arrived = pair.eventually { last = pair.query(to, ["-e", "expect"]); return last == [Self.expectationLine] }
        #expect(arrived, "\(to) -e expect:\n\(last.joined(separator: "\n"))")
        // -c commits the master, then the expectation that needs it.
        _ = pair.query(to, ["-c"])
        var listing = ""
        let committed = pair.eventually(5) {
            listing = target.run(["conntrack", "-L", "expect"]).stdout
            return listing.contains("dport=40036 mask-src=255.255.255.255") && listing.contains("master-src=10.1.1.1")
        }
        #expect(committed, "\(to) conntrack -L expect:\n\(listing)\n\(target.run(["conntrack", "-L"]).stdout)")
        // The removal reaches the peer's cache.
        let removed = source.tandem(["conntrack", "-D", "expect"])
        #expect(removed.status == 0, "\(removed.stderr)")
        let gone = pair.eventually { last = pair.query(to, ["-e", "expect"]); return last.isEmpty }
        #expect(gone, "\(to) -e expect:\n\(last.joined(separator: "\n"))")
    }

    static var expectationSync: Pair.Extra {
        var e = Pair.Extra()
        e.sync = "Options {\n        ExpectationSync On\n    }"
        return e
    }

    @Test func expectationsTandemToReference() throws {
        let pair = try Pair("xtr", a: .tandem, b: .reference, extra: Self.expectationSync)
        defer { pair.stop() }
        try replicateExpectation(pair, from: "a", to: "b")
    }

    @Test func expectationsReferenceToTandem() throws {
        let pair = try Pair("xrt", a: .reference, b: .tandem, extra: Self.expectationSync)
        defer { pair.stop() }
        try replicateExpectation(pair, from: "a", to: "b")
        let stats = pair.query("b", ["-s", "expect"]).joined(separator: "\n")
        #expect(stats.contains("cache external:"), "\(stats)")
        // `-s expect` in conntrackd's layout: the same text once the numbers (and their
        // padding) and the device names are masked.
        // Tandem's own counters follow as a block of their own, after conntrackd's text.
        let reference = Self.layout(pair.a.run(["conntrackd", "-C", "\(pair.dir)/a.conf", "-s", "expect"]).stdout)
        var ours = pair.b.run([Shell.tandem, "conntrackd", "-C", "\(pair.dir)/b.conf", "-s", "expect"]).stdout
        if let r = ours.range(of: "tandem:\n") { ours = String(ours[..<r.lowerBound]) }
        let tandem = Self.layout(ours)
        #expect(reference.contains("cache internal:"), "\(reference)")
        #expect(tandem == reference, "tandem:\n\(tandem)\nconntrackd:\n\(reference)")
    }

    static func layout(_ text: String) -> String {
        text.replacing(/device=[^ ):]+/, with: "device=X").replacing(/[ ]*[0-9]+/, with: "#")
    }
}
