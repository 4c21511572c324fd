import Conntrack
import StateSync
import TestSupport
import Testing
import IPAddressing

/// The sender's rules for expectations (spec §2.6) against the captured V17: a kernel
/// expectation rendered as Tandem sends it gives conntrackd 1.4.7's bytes.
@Suite struct ExpectationSenderTests {
    /// V17's expectation as ctnetlink reports it.
    static var ftpExpectation: Conntrack.Expectation {
        let a = IPAddress("10.232.0.1")!, b = IPAddress("10.232.0.2")!, ones = IPAddress("255.255.255.255")!
        var x = Conntrack.Expectation(family: AddressFamily.inet)
        x.master = Tuple(source: a, destination: b, protocolNumber: 6, sourcePort: 45100, destinationPort: 21)
        x.tuple = Tuple(source: b, destination: a, protocolNumber: 6, sourcePort: 0, destinationPort: 40036)
        x.mask = Tuple(source: ones, destination: ones, protocolNumber: 6, sourcePort: 0, destinationPort: 65535)
        x.timeout = 300
        x.id = 7
        x.zone = 0
        x.flags = []
        x.expectationClass = 0
        x.helperName = "ftp"
        return x
    }

    @Test func kernelExpectationEncodesAsCapturedV17() throws {
        let synced = try #require(SyncedExpectation(expectation: Self.ftpExpectation))
        let m = SyncMessage(type: .expectationNew, sequence: 1_795_534_293, body: .expectation(synced))
        #expect(m.encoded == WireVectorTests.vector("V17"))
    }

    @Test func commitTimeoutLeavesTheTimeoutOut() throws {
        let synced = try #require(SyncedExpectation(expectation: Self.ftpExpectation, options: SyncSenderOptions(includeTimeout: false)))
        #expect(synced.timeout == nil)
        #expect(synced.flags == 0)
    }

    @Test func receivedV17BecomesTheKernelRequest() throws {
        let (messages, _) = WireVectorTests.decode(WireVectorTests.vector("V17"))
        guard case .expectation(let synced) = messages.first?.body else { Issue.record("V17"); return }
        let x = try #require(synced.expectation(timeout: 120))
        let original = Self.ftpExpectation
        #expect(x.family == AddressFamily.inet)
        #expect(x.master == original.master)
        #expect(x.tuple == original.tuple)
        #expect(x.mask == original.mask)
        #expect(x.timeout == 120)
        #expect(x.helperName == "ftp")
        #expect(x.expectationClass == 0)
        #expect(x.flags == [])
    }

    /// Ports follow the master's protocol: an ICMP master sends none, for any tuple.
    @Test func portsOnlyForPortMasters() throws {
        var x = Self.ftpExpectation
        x.master?.protocolNumber = IPProtocolNumber.icmp
        let synced = try #require(SyncedExpectation(expectation: x))
        #expect(synced.master?.ports == nil && synced.expected?.ports == nil && synced.mask?.ports == nil)
    }

    /// An expectation without its tuples cannot be recreated: it is not sent at all.
    @Test func incompleteExpectationIsNotSent() {
        var x = Self.ftpExpectation
        x.mask = nil
        #expect(SyncedExpectation(expectation: x) == nil)
        #expect(SyncedExpectation().expectation(timeout: 1) == nil)
    }

    @Test func natTupleAndDirectionRoundTrip() throws {
        var x = Self.ftpExpectation
        x.nat = ExpectationNAT(direction: 1, tuple: Tuple(source: IPAddress("203.0.113.1")!, destination: IPAddress("10.232.0.1")!,
                                                          protocolNumber: 6, sourcePort: 0, destinationPort: 40036))
        let synced = try #require(SyncedExpectation(expectation: x))
        var bytes: [UInt8] = []
        SyncMessage(type: .expectationUpdate, sequence: 9, body: .expectation(synced)).encode(into: &bytes)
        let (back, counters) = WireVectorTests.decode(bytes)
        #expect(counters.malformed == 0)
        guard case .expectation(let received) = back.first?.body else { Issue.record("no message"); return }
        #expect(received == synced)
        #expect(received.expectation(timeout: 5)?.nat == x.nat)
    }
}
