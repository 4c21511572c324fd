import Netlink
import Testing

/// RTM_NEWRULE / RTM_DELRULE both ways against the bytes keepalived 2.2.7 sent for the same
/// rules (its VRRP process under `strace -e write=all`, static_rules in a namespace).
@Suite struct RuleMessageTests {
    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            out.append(UInt8(s[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static let create: NetlinkFlags = [.request, .ack, .create, .excl]

    /// `from 10.1.0.0/16 table 100 priority 200`
    static let fromTable: (rule: Rules.Rule, sequence: UInt32, bytes: String) = {
        var r = Rules.Rule(family: 2, action: .table)
        r.table = 100
        r.source = [10, 1, 0, 0]
        r.sourceLength = 16
        r.priority = 200
        r.protocolNumber = 18
        return (r, 0x6b12_dc83, "340000002000050683dc126b00000000020010006400000100000000080002000a01000008000600c80000000500150012000000")
    }()

    /// `to 192.168.5.0/24 iif tk1v fwmark 0x10/0xff lookup 1000 priority 201`: a table past 255 travels in FRA_TABLE.
    static let bigTableWithMark: (rule: Rules.Rule, sequence: UInt32, bytes: String) = {
        var r = Rules.Rule(family: 2, action: .table)
        r.table = 1000
        r.destination = [192, 168, 5, 0]
        r.destinationLength = 24
        r.priority = 201
        r.fwmark = 0x10
        r.fwmask = 0xff
        r.inputInterface = "tk1v"
        r.protocolNumber = 18
        return (r, 0x6b12_dc84, "580000002000050684dc126b0000000002180000000000010000000008000f00e803000008000100c0a8050008000600c9000000"
                + "08000a001000000008001000ff00000009000300746b3176000000000500150012000000")
    }()

    /// `not from 10.2.0.0/16 blackhole priority 202 no_track`: inverted, no protocol.
    static let invertedBlackhole: (rule: Rules.Rule, sequence: UInt32, bytes: String) = {
        var r = Rules.Rule(family: 2, action: .blackhole)
        r.source = [10, 2, 0, 0]
        r.sourceLength = 16
        r.invert = true
        r.priority = 202
        return (r, 0x6b12_dc85, "2c0000002000050685dc126b00000000020010000000000602000000080002000a02000008000600ca000000")
    }()

    /// `inet6 inet6 from 2001:db8::/32 goto 300 priority 203`: FRA_GOTO comes last.
    static let ipv6Goto: (rule: Rules.Rule, sequence: UInt32, bytes: String) = {
        var r = Rules.Rule(family: 10, action: .goto)
        r.gotoTarget = 300
        r.source = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 12)
        r.sourceLength = 32
        r.priority = 203
        r.protocolNumber = 18
        return (r, 0x6b12_dca5, "4800000020000506a5dc126b000000000a00200000000002000000001400020020010db8000000000000000000000000"
                + "08000600cb0000000500150012000000080004002c010000")
    }()

    /// `from 10.1.0.0/16 ipproto tcp sport 1000-2000 uidrange 100-200 suppress_prefixlength 8 table 100 priority 210`:
    /// ranges as two host-order numbers.
    static let rangesAndProtocols: (rule: Rules.Rule, sequence: UInt32, bytes: String) = {
        var r = Rules.Rule(family: 2, action: .table)
        r.table = 100
        r.source = [10, 1, 0, 0]
        r.sourceLength = 16
        r.priority = 210
        r.suppressPrefixLength = 8
        r.uidRange = 100...200
        r.protocolNumber = 18
        r.ipProtocol = 6
        r.sourcePorts = 1000...2000
        return (r, 0x6b12_e7b7, "5800000020000506b7e7126b00000000020010006400000100000000080002000a01000008000600d200000008000e0008000000"
                + "0c00140064000000c80000000500150012000000050016000600000008001700e803d007")
    }()

    static let cases = [fromTable, bigTableWithMark, invertedBlackhole, ipv6Goto, rangesAndProtocols]

    @Test(arguments: 0..<cases.count)
    func encodesAsKeepalivedDoes(index: Int) {
        let c = Self.cases[index]
        var batch = MessageBatch()
        Rules.append(Rules.newRule, c.rule, flags: Self.create, sequence: c.sequence, to: &batch)
        #expect(batch.bytes == Self.hex(c.bytes))
    }

    @Test(arguments: 0..<cases.count)
    func decodesKeepalivedsBytes(index: Int) throws {
        let c = Self.cases[index]
        #expect(try Rules.decode(Self.hex(c.bytes)) == c.rule)
    }

    /// keepalived's RTM_DELRULE for the first rule: the same body, type 33, request|ack only.
    @Test func deleteCarriesTheWholeRule() throws {
        var batch = MessageBatch()
        Rules.append(Rules.deleteRule, Self.fromTable.rule, flags: [.request, .ack], sequence: 0x6b12_dc80, to: &batch)
        #expect(batch.bytes == Self.hex("340000002100050080dc126b00000000020010006400000100000000080002000a01000008000600c80000000500150012000000"))
    }

    @Test func malformedMessagesAreTypedErrors() {
        let good = Self.hex(Self.fromTable.bytes)
        #expect(throws: NetlinkDecodingError.self) { try Rules.decode(Array(good.prefix(20))) }
        var badAction = good
        badAction[23] = 99
        #expect(throws: NetlinkDecodingError.self) { try Rules.decode(badAction) }
        var longAttribute = good
        longAttribute[28] = 200
        #expect(throws: NetlinkDecodingError.self) { try Rules.decode(longAttribute) }
        var reversedPorts = Self.hex(Self.rangesAndProtocols.bytes)
        reversedPorts.swapAt(84, 86)
        reversedPorts.swapAt(85, 87)
        #expect(throws: NetlinkDecodingError.self) { try Rules.decode(reversedPorts) }
        var shortSource = good
        shortSource[28] = 6
        #expect(throws: NetlinkDecodingError.self) { try Rules.decode(shortSource) }
    }
}
