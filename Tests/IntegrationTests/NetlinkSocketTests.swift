import Conntrack
import Netlink
import TestSupport
import Testing
import IPAddressing

@Suite(.serialized, .enabled(if: Shell.isRoot && Shell.which("conntrack"), "needs root and conntrack(8)"))
struct NetlinkSocketTests {
    /// A datagram bigger than the receive buffer is reported as truncated, not cut silently.
    @Test func truncatedDatagramIsReported() throws {
        let ns = try TestNamespace("trunc")
        defer { ns.remove() }
        ns.run(["conntrack", "-I", "-p", "tcp", "-s", "10.1.1.1", "-d", "10.2.2.2", "--sport", "1", "--dport", "2",
                "--state", "ESTABLISHED", "-t", "60"])
        let socket = try NetworkNamespace.run(named: ns.name) { try NetlinkSocket(protocol: NetlinkProtocol.netfilter) }
        var request = MessageBatch()
        request.append(type: ConntrackMessageType.get, flags: [.request, .dump], sequence: socket.makeSequence()) {
            NetfilterHeader(family: 0).encode(into: &$0)
        }
        var tiny = [UInt8](repeating: 0, count: 64)
        #expect(throws: NetlinkSocketError.truncated(received: 64, buffer: 64)) {
            try socket.dump(request, buffer: &tiny) { _, _ in }
        }
    }

    /// The kernel's error for one message of a batch reaches exactly that message, and an
    /// ACK-less batch still reports it.
    @Test func perMessageErrorsWithoutAcks() throws {
        let ns = try TestNamespace("noack")
        defer { ns.remove() }
        let c = try ConntrackConnection(namespace: ns.name)
        var good = Flow(original: Tuple(source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!,
                                        protocolNumber: 17, sourcePort: 1, destinationPort: 2))
        good.timeout = 30
        var bad = good
        bad.original?.sourcePort = 3
        bad.reply = nil // the kernel needs both tuples to create
        let r = try c.create([good, bad, good], acknowledge: false)
        #expect(r.succeeded == 1)
        #expect(r.failures.map(\.index) == [1, 2])
        #expect(r.failures.map(\.error.errno) == [22, 17]) // EINVAL, EEXIST
    }

    /// NetlinkBufferSize / NetlinkBufferSizeMaxGrowth: an overrun doubles the buffer, up
    /// to the maximum.
    @Test func overrunGrowsTheReceiveBuffer() throws {
        let ns = try TestNamespace("grow")
        defer { ns.remove() }
        let listener = try ConntrackEventListener(
            events: .flows, namespace: ns.name, bufferPolicy: ReceiveBufferPolicy(initial: 8192, maximum: 1 << 20))
        let before = listener.socket.receiveBufferSize
        let c = try ConntrackConnection(namespace: ns.name)
        let flows = TestFlows.udp(3000)
        _ = try c.create(flows, acknowledge: false)
        _ = try listener.poll(timeoutMilliseconds: 200)
        #expect(listener.counters.overruns >= 1)
        #expect(listener.socket.receiveBufferSize > before)
    }

    /// A socket error fails only its own batch: the answers to a batch of 500 overflow a
    /// receive buffer of a few hundred bytes (lost, so the wait for them times out), and
    /// the batch after it is still sent. The kernel applies creates inside sendmsg, so it holds all 1,000 flows, and
    /// the result accounts for each of them. The control, with a receive buffer that takes
    /// the answers, has none unanswered.
    @Test(arguments: [true, false])
    func aSocketErrorFailsOnlyItsBatch(overflow: Bool) throws {
        let ns = try TestNamespace(overflow ? "unans" : "unanc")
        defer { ns.remove() }
        let c = try ConntrackConnection(namespace: ns.name, batchSize: 500)
        _ = try c.socket.setReceiveBuffer(bytes: overflow ? 256 : 4 << 20)
        let flows = TestFlows.udp(1000)
        let r = try c.create(flows, acknowledge: true, reportingUnanswered: true)
        var inKernel = 0
        try ConntrackConnection(namespace: ns.name).dump { _ in inKernel += 1 }
        #expect(inKernel == 1000)
        #expect(r.succeeded + r.failed + r.unansweredCount == 1000)
        if overflow {
            #expect(r.unanswered.map(\.indices) == [0..<500, 500..<1000], "\(r.unanswered.map { "\($0.indices): \($0.error)" })")
            // Without asking for the partial result the error is thrown, once all were sent.
            let again = try ConntrackConnection(namespace: ns.name, batchSize: 500)
            _ = try again.socket.setReceiveBuffer(bytes: 256)
            #expect(throws: NetlinkSocketError.self) { try again.create(flows, updateExisting: true, acknowledge: true) }
        } else {
            #expect(r.unanswered.isEmpty && r.succeeded == 1000)
        }
    }
}
