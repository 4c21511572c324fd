import Conntrack
import StateSync

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
}
