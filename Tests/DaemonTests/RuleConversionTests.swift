import ConfigParsing
@testable import Daemon
import Netlink
import Testing

/// A virtual_rules / static_rules line, as Tandem sends it, is byte for byte what
/// keepalived 2.2.7 sent for the same line (its VRRP process under strace).
@Suite struct RuleConversionTests {
    static func hex(_ s: String) -> [UInt8] {
        stride(from: 0, to: s.count, by: 2).map { i in
            let a = s.index(s.startIndex, offsetBy: i)
            return UInt8(s[a..<s.index(a, offsetBy: 2)], radix: 16)!
        }
    }

    static let lines: [(words: [String], sequence: UInt32, bytes: String)] = [
        (["to", "192.168.5.0/24", "iif", "tk1v", "fwmark", "0x10/0xff", "lookup", "1000", "priority", "201"], 0x6b12_dc84,
         "580000002000050684dc126b0000000002180000000000010000000008000f00e803000008000100c0a8050008000600c9000000"
            + "08000a001000000008001000ff00000009000300746b3176000000000500150012000000"),
        (["not", "from", "10.2.0.0/16", "blackhole", "priority", "202", "no_track"], 0x6b12_dc85,
         "2c0000002000050685dc126b00000000020010000000000602000000080002000a02000008000600ca000000"),
        (["inet6", "inet6", "from", "2001:db8::/32", "goto", "300", "priority", "203"], 0x6b12_dca5,
         "4800000020000506a5dc126b000000000a00200000000002000000001400020020010db8000000000000000000000000"
            + "08000600cb0000000500150012000000080004002c010000"),
        // keepalived 2.2.7 reports `dport 80` (it takes ranges only) and sends the rest.
        (["from", "10.1.0.0/16", "ipproto", "tcp", "sport", "1000-2000", "dport", "80", "uidrange", "100-200", "suppress_prefixlength", "8",
          "table", "100", "priority", "210"], 0x6b12_e7b7,
         "5800000020000506b7e7126b00000000020010006400000100000000080002000a01000008000600d200000008000e0008000000"
            + "0c00140064000000c80000000500150012000000050016000600000008001700e803d007"),
        (["to", "10.2.0.0/16", "protocol", "99", "no_track", "ipproto", "17", "table", "101", "priority", "211"], 0x6b12_e7b8,
         "3c00000020000506b8e7126b00000000021000006500000100000000080001000a02000008000600d300000005001500630000000500160011000000"),
        // A tracked rule is keepalived's whatever protocol the line asks for.
        (["to", "10.3.0.0/16", "protocol", "99", "table", "102", "priority", "212"], 0x6b12_e7b9,
         "3400000020000506b9e7126b00000000021000006600000100000000080001000a03000008000600d40000000500150012000000"),
    ]

    @Test(arguments: 0..<lines.count)
    func configLineBecomesKeepalivedsMessage(index: Int) throws {
        let line = Self.lines[index]
        var batch = MessageBatch()
        Rules.append(Rules.newRule, KeepalivedDaemon.kernelRule(try VirtualRule(line.words)), flags: [.request, .ack, .create, .excl],
                     sequence: line.sequence, to: &batch)
        #expect(batch.bytes == Self.hex(line.bytes))
    }

    /// `from all`: no FRA_SRC at all, as `ip rule` sends it; the control, a prefix, carries one.
    @Test func fromAllSendsNoSource() throws {
        #expect(KeepalivedDaemon.kernelRule(try VirtualRule(["from", "all", "table", "7"])).source == nil)
        #expect(KeepalivedDaemon.kernelRule(try VirtualRule(["from", "10.0.0.0/8", "table", "7"])).source == [10, 0, 0, 0])
    }
}
