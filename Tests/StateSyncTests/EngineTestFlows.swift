import Conntrack
import StateSync
import TestSupport

/// A small UDP flow body per key, for the engine tests.
enum EngineTestFlows {
    static func body(_ key: Int) -> SyncMessage.Body {
        var f = SyncedFlow()
        f.source = .v4(0x0a00_0000 | UInt32(key))
        f.destination = .v4(0x0a63_0001)
        f.protocolNumber = 17
        f.ports = SyncPorts(source: 1, destination: 2)
        return .flow(f)
    }

    /// Five alive ticks a second apart, both ways, with nothing queued: A and B end past
    /// their handshake, so data queued next is not held behind it. Returns the time reached.
    static func settle(_ a: inout FTFWEngine<Int>, _ b: inout FTFWEngine<Int>) -> UInt64 {
        var now: UInt64 = 0
        for _ in 0..<5 {
            a.fire(now: ns(now)); b.fire(now: ns(now))
            let toB = a.transmit(now: ns(now)) { (.flowUpdate, body($0)) }
            let toA = b.transmit(now: ns(now)) { _ in nil }
            for m in toB { _ = b.receive(m) }
            for m in toA { _ = a.receive(m) }
            now += 1_000_000_000
        }
        return now
    }
}
