@testable import Daemon
import Testing

/// The RTM_DELADDR body the link monitor reads (ifaddrmsg, then IFA_ADDRESS / IFA_LOCAL):
/// the address a VIP check compares, and nothing from a body too short or malformed.
@Suite struct DeletedAddressParsingTests {
    static func attribute(_ type: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(4 + payload.count), 0, type, 0] + payload + [UInt8](repeating: 0, count: (4 - payload.count % 4) % 4)
    }

    @Test func theLocalAddressIsTakenOverThePeer() {
        // IPv4 point-to-point: IFA_ADDRESS the peer, IFA_LOCAL the address; ifindex 7.
        let body: [UInt8] = [2, 32, 0, 0, 7, 0, 0, 0] + Self.attribute(1, [10, 2, 0, 7]) + Self.attribute(2, [10, 2, 0, 6])
        #expect(LinkMonitor.parseDeletedAddress(body, 0..<body.count) == .init(interface: 7, address: [10, 2, 0, 6]))
        // Control: without IFA_LOCAL (IPv6's usual form), IFA_ADDRESS is the address.
        let v6: [UInt8] = [10, 64, 0, 0, 3, 0, 0, 0] + Self.attribute(1, [0xfd] + [UInt8](repeating: 0, count: 14) + [1])
        #expect(LinkMonitor.parseDeletedAddress(v6, 0..<v6.count)?.address.last == 1)
    }

    @Test func aMalformedBodyGivesNothing() {
        #expect(LinkMonitor.parseDeletedAddress([2, 32, 0, 0], 0..<4) == nil)
        // An attribute whose length runs past the body, and one of the wrong size.
        let long: [UInt8] = [2, 32, 0, 0, 7, 0, 0, 0, 40, 0, 2, 0, 10, 2, 0, 6]
        #expect(LinkMonitor.parseDeletedAddress(long, 0..<long.count) == nil)
        let odd: [UInt8] = [2, 32, 0, 0, 7, 0, 0, 0] + Self.attribute(2, [10, 2, 0])
        #expect(LinkMonitor.parseDeletedAddress(odd, 0..<odd.count) == nil)
    }
}
