import Conntrack
@testable import Daemon
import TestSupport
import Testing
import IPAddressing

/// The caches' table against `Dictionary` as the model: random inserts, updates and
/// removals (by key and by position) must leave the same contents, through growth and
/// backward-shift deletion.
struct FlowTableTests {
    static func key(_ n: UInt32, v6: Bool = false) -> FlowKey {
        if v6 {
            return FlowKey(Tuple(source: .v6(0x2001_0db8_0000_0000, UInt64(n)), destination: .v6(0x2001_0db8_0000_0000, 1),
                                 protocolNumber: IPProtocolNumber.udp, sourcePort: 53, destinationPort: 53))
        }
        return FlowKey(Tuple(source: .v4(0x0a00_0000 | n % 4096), destination: .v4(0xc0a8_0001), protocolNumber: IPProtocolNumber.tcp,
                             sourcePort: UInt16(truncatingIfNeeded: n / 4096), destinationPort: 443))
    }

    static func same(_ t: FlowTable<Int>, _ model: [FlowKey: Int]) -> Bool {
        guard t.count == model.count else { return false }
        for (k, v) in model where t[k] != v { return false }
        var seen = 0
        for (k, v) in t {
            guard model[k] == v else { return false }
            seen += 1
        }
        return seen == model.count
    }

    @Test(arguments: [1, 2, 3]) func matchesDictionaryUnderRandomOperations(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var table = FlowTable<Int>()
        var model: [FlowKey: Int] = [:]
        for step in 0 ..< 60_000 {
            let k = Self.key(UInt32(rng.next() % 20_000), v6: rng.next() % 16 == 0)
            switch rng.next() % 10 {
            case 0 ..< 5:
                table[k] = step; model[k] = step
            case 5 ..< 7:
                #expect(table.removeValue(forKey: k) == model.removeValue(forKey: k))
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
                    slot = had ? nil : step
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
        var table = FlowTable<Int>()
        for n in 0 ..< 250_000 { table[Self.key(UInt32(n))] = n }
        #expect(table.count == 250_000)
        #expect((0 ..< 250_000).allSatisfy { table[Self.key(UInt32($0))] == $0 })
    }
}
