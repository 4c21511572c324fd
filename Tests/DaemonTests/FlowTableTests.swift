import Conntrack
@testable import Daemon
import TestSupport
import Testing
import IPAddressing

/// The caches' table against `Dictionary` as the model: random inserts, updates and
/// removals (by key and by position) must leave the same contents, through growth and
/// backward-shift deletion.
struct FlowTableTests {
    /// A value that carries its key, as the caches' entries derive theirs.
    struct Numbered: FlowKeyed {
        let flowKey: FlowKey
        var n: Int
    }

    static func key(_ n: UInt32, v6: Bool = false) -> FlowKey {
        if v6 {
            return FlowKey(Tuple(source: .v6(0x2001_0db8_0000_0000, UInt64(n)), destination: .v6(0x2001_0db8_0000_0000, 1),
                                 protocolNumber: IPProtocolNumber.udp, sourcePort: 53, destinationPort: 53))
        }
        return FlowKey(Tuple(source: .v4(0x0a00_0000 | n % 4096), destination: .v4(0xc0a8_0001), protocolNumber: IPProtocolNumber.tcp,
                             sourcePort: UInt16(truncatingIfNeeded: n / 4096), destinationPort: 443))
    }

    static func same(_ t: FlowTable<Numbered>, _ model: [FlowKey: Int]) -> Bool {
        guard t.count == model.count else { return false }
        for (k, v) in model where t[k]?.n != v { return false }
        var seen = 0
        for (k, v) in t {
            guard model[k] == v.n, v.flowKey == k else { return false }
            seen += 1
        }
        return seen == model.count
    }

    @Test(arguments: [1, 2, 3]) func matchesDictionaryUnderRandomOperations(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var table = FlowTable<Numbered>()
        var model: [FlowKey: Int] = [:]
        for step in 0 ..< 60_000 {
            let k = Self.key(UInt32(rng.next() % 20_000), v6: rng.next() % 16 == 0)
            switch rng.next() % 10 {
            case 0 ..< 5:
                table[k] = Numbered(flowKey: k, n: step); model[k] = step
            case 5 ..< 7:
                #expect(table.removeValue(forKey: k)?.n == model.removeValue(forKey: k))
            case 7:
                if table.count > 0 {
                    let p = Int(rng.next() % UInt64(table.count))
                    let victim = table.key(at: p)
                    table.remove(at: p)
                    model[victim] = nil
                }
            default:
                let r = table.update(k) { slot -> Bool in
                    let had = slot != nil
                    slot = had ? nil : Numbered(flowKey: k, n: step)
                    return had
                }
                #expect(r == (model[k] != nil))
                model[k] = r ? nil : step
            }
            if step % 10_000 == 0 { #expect(Self.same(table, model)) }
        }
        #expect(Self.same(table, model))
        for k in Array(model.keys) { table[k] = nil }
        #expect(table.isEmpty)
        #expect(table.index(forKey: Self.key(1)) == nil)
    }

    @Test func holdsAQuarterMillionFlows() {
        var table = FlowTable<Numbered>()
        for n in 0 ..< 250_000 { table[Self.key(UInt32(n))] = Numbered(flowKey: Self.key(UInt32(n)), n: n) }
        #expect(table.count == 250_000)
        #expect((0 ..< 250_000).allSatisfy { table[Self.key(UInt32($0))]?.n == $0 })
    }

    /// `names` answers what making the key would: for packed and boxed keys, with zones,
    /// ICMP fields and ports on either kind of protocol.
    @Test(arguments: FlowFixtures.flows) func aKeyNamesExactlyTheTuplesItIsMadeOf(_ f: Flow) throws {
        let tuples = [f.original, f.reply].compactMap { $0 }
        for t in tuples {
            var zoned = t
            zoned.zone = 7
            var stray = t
            if t.isICMP { stray.sourcePort = 1; stray.destinationPort = 2 } else { stray.icmpType = 8; stray.icmpID = 3 }
            for a in [t, zoned, stray] {
                for b in tuples + [Self.key(1).tuple, Self.key(1, v6: true).tuple] {
                    #expect(FlowKey(b).names(a) == (FlowKey(b) == FlowKey(a)), "\(b) names \(a)?")
                }
            }
        }
    }
}
