import Conntrack
import StateSync
import TestSupport
import Testing
import IPAddressing

/// The messages of ../shared/vectors/conntrackd-messages.md: captured from real
/// conntrackd 1.4.7 daemons or accepted by them.
@Suite struct WireVectorTests {
    static let vectors = SharedVectors.conntrackdMessages()
    static var ids: [String] { vectors.map(\.id) }

    static func vector(_ id: String) -> [UInt8] { vectors.first { $0.id == id }!.bytes }

    static func decode(_ bytes: [UInt8]) -> ([SyncMessage], SyncReceiveCounters) {
        var r = SyncReceiver()
        let got = r.receive(datagram: bytes).compactMap { if case .message(let m) = $0 { m } else { nil } }
        return (got, r.counters)
    }

    @Test func allVectorsArePresent() {
        #expect(Self.ids == (1...21).map { "V\($0)" })
    }

    @Test(arguments: ids)
    func decodesCleanlyAndReencodesByteForByte(id: String) {
        let bytes = Self.vector(id)
        let (messages, counters) = Self.decode(bytes)
        #expect(counters.malformed == 0, "\(id)")
        #expect(!messages.isEmpty, "\(id)")
        var out: [UInt8] = []
        for m in messages { m.encode(into: &out) }
        #expect(out == bytes, "\(id)")
    }

    /// Received flows rebuilt into `Flow`s and sent again with the C sender's rules give
    /// the same bytes: the sender and receiver mappings agree with conntrackd's.
    @Test(arguments: ["V9", "V10", "V11", "V12", "V13", "V14", "V15", "V16", "V18", "V19", "V20", "V21"])
    func senderRulesReproduceCapturedMessages(id: String) throws {
        let bytes = Self.vector(id)
        let (messages, _) = Self.decode(bytes)
        var out: [UInt8] = []
        for m in messages {
            guard case .flow(let synced) = m.body else { Issue.record("\(id) not a flow"); return }
            let flow = try #require(synced.flow)
            var resent = m
            resent.body = .flow(SyncedFlow(flow: flow, options: SyncSenderOptions(includeTimeout: synced.timeout != nil)))
            resent.encode(into: &out)
        }
        #expect(out == bytes, "\(id)")
    }

    @Test func handshakeAndControlMessages() {
        let (v1, _) = Self.decode(Self.vector("V1"))
        #expect(v1 == [.control(.alive(sequence: 1795533973, handshake: .hello))])
        let (v2, _) = Self.decode(Self.vector("V2"))
        #expect(v2 == [.control(.ack(1795533973, 1795533973, sequence: 1795533973, handshake: [.hello, .helloBack]))])
        let (v6, _) = Self.decode(Self.vector("V6"))
        guard case .control(let nack) = v6.first?.body else { Issue.record("V6"); return }
        #expect(nack.flags.contains(.nack))
        #expect(nack.range == ClosedRangeOfSequences(from: 1004, to: 1007))
        let (v7, _) = Self.decode(Self.vector("V7"))
        #expect(v7.first?.flags.contains(.resync) == true)
        let (v8, _) = Self.decode(Self.vector("V8"))
        #expect(v8.count == 2)
    }

    @Test func byteOrderQuirks() throws {
        let (v12, _) = Self.decode(Self.vector("V12"))
        guard case .flow(let icmp) = v12.first?.body else { Issue.record("V12"); return }
        #expect(icmp.icmpID == 10380)
        #expect(icmp.flow?.original?.icmpID == 10380)
        let (v21, _) = Self.decode(Self.vector("V21"))
        guard case .flow(let nat) = v21.first?.body else { Issue.record("V21"); return }
        #expect(nat.sourcePortNAT == 61000)
        let reply = try #require(nat.flow?.reply)
        #expect(reply.destination == IPAddress("203.0.113.99"))
        #expect(reply.destinationPort == 61000)
        #expect(reply.source == IPAddress("198.51.100.60"))
        #expect(reply.sourcePort == 80)
    }

    @Test func ftpExpectation() throws {
        let (v17, _) = Self.decode(Self.vector("V17"))
        guard case .expectation(let x) = v17.first?.body else { Issue.record("V17"); return }
        #expect(v17.first?.type == .expectationNew)
        #expect(x.master?.ports == SyncPorts(source: 45100, destination: 21))
        #expect(x.expected?.ports == SyncPorts(source: 0, destination: 40036))
        #expect(x.mask?.protocolNumber == 6)
        #expect(x.timeout == 300)
        #expect(x.helper == "ftp")
    }

    @Test func threeMessagesInOneDatagram() {
        let (v20, counters) = Self.decode(Self.vector("V20"))
        #expect(v20.count == 3 && counters.malformed == 0)
        let bodies = v20.compactMap { if case .flow(let f) = $0.body { f } else { nil } }
        #expect(bodies[0].helper == "ftp")
        #expect(bodies[1].zone == 7)
        #expect(bodies[2].labels == [0, 5])
    }
}
