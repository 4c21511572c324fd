import Netlink
import Testing

/// use_vmac's RTM_NEWLINK as Tandem lays it out (KeepalivedVMACTests has the kernel
/// accept it beside keepalived 2.2.7): ifinfomsg with IFF_UP set and changed, the parent,
/// the name, the VRRP MAC, and linkinfo naming macvlan in private mode.
struct LinkMessageTests {
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    @Test func macvlanMessage() {
        var batch = MessageBatch()
        let mac: [UInt8] = [0, 0, 0x5e, 0, 1, 7]
        Links.macvlan(name: "vrrp.7", parent: 3, mac: mac, mode: Links.macvlanPrivate, sequence: 9, to: &batch)
        let b = batch.bytes
        #expect(Int(b[0]) | Int(b[1]) << 8 == b.count)
        #expect(b[4] == 16 && b[5] == 0)
        // REQUEST | ACK | EXCL | CREATE
        #expect(Int(b[6]) | Int(b[7]) << 8 == 0x0605)
        // ifinfomsg: family 0, index 0, flags and change IFF_UP.
        #expect(Array(b[16..<32]) == [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
        #expect(Self.contains(b, [8, 0, 5, 0, 3, 0, 0, 0]), "IFLA_LINK 3")
        #expect(Self.contains(b, [11, 0, 3, 0] + Array("vrrp.7".utf8) + [0]), "IFLA_IFNAME")
        #expect(Self.contains(b, [10, 0, 1, 0] + mac), "IFLA_ADDRESS")
        #expect(Self.contains(b, [11, 0, 1, 0] + Array("macvlan".utf8)), "IFLA_INFO_KIND")
        #expect(Self.contains(b, [8, 0, 1, 0, 1, 0, 0, 0]), "IFLA_MACVLAN_MODE private")
        // The control: bridge mode writes 4 where private writes 1.
        var bridge = MessageBatch()
        Links.macvlan(name: "vrrp.7", parent: 3, mac: mac, mode: Links.macvlanBridge, sequence: 9, to: &bridge)
        #expect(Self.contains(bridge.bytes, [8, 0, 1, 0, 4, 0, 0, 0]) && !Self.contains(bridge.bytes, [8, 0, 1, 0, 1, 0, 0, 0]))
    }

    @Test func addressGenerationAndDelete() {
        var batch = MessageBatch()
        Links.noAddressGeneration(index: 12, sequence: 1, to: &batch)
        // IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE = none } }, on link 12, no flag changed.
        #expect(Array(batch.bytes[16..<32]) == [0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(Self.contains(batch.bytes, [5, 0, 8, 0, 1]))
        var delete = MessageBatch()
        Links.delete(index: 12, sequence: 2, to: &delete)
        #expect(delete.bytes[4] == 17 && delete.bytes.count == 32)
    }

    /// A link as an RTM_GETLINK dump reports it, read back from the layout Tandem writes
    /// (the kernel's own answers are read in KeepalivedVMACNamingTests).
    @Test func linkDescriptionReadsAMacvlan() throws {
        let mac: [UInt8] = [0, 0, 0x5e, 0, 1, 7]
        func described(_ mode: UInt32) throws -> LinkDescription? {
            var batch = MessageBatch()
            Links.macvlan(name: "vrrp.7", parent: 3, mac: mac, mode: mode, sequence: 9, to: &batch)
            var reader = MessageReader(batch.bytes)
            return try reader.next().map { try LinkDescription.decode(batch.bytes, $0) }
        }
        let link = try #require(try described(Links.macvlanPrivate))
        #expect(link.name == "vrrp.7" && link.parent == 3 && link.address == mac && link.kind == "macvlan" && link.isPrivateMacvlan)
        // The control: bridge mode is read as such, not keepalived's.
        let bridge = try #require(try described(Links.macvlanBridge))
        #expect(bridge.macvlanMode == Links.macvlanBridge && !bridge.isPrivateMacvlan)
    }

    @Test func aTruncatedLinkMessageIsATypedError() throws {
        var batch = MessageBatch()
        Links.delete(index: 12, sequence: 2, to: &batch)
        // A message that says it is 20 bytes long: 4 of the 16 an ifinfomsg needs.
        var cut = Array(batch.bytes[0..<20])
        cut[0] = 20; cut[1] = 0; cut[2] = 0; cut[3] = 0
        var short = MessageReader(cut)
        let next = short.next()
        let view = try #require(next)
        #expect(throws: NetlinkDecodingError.self) { try LinkDescription.decode(cut, view) }
        // Control: the whole message reads.
        var whole = MessageReader(batch.bytes)
        let first = whole.next()
        let m = try #require(first)
        #expect(try LinkDescription.decode(batch.bytes, m).index == 12)
    }
}
