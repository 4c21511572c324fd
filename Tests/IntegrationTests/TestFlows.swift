import Conntrack

/// Distinct UDP flows 10.0.x.y:1000 → 10.99.0.1:53 for bursts and batches.
enum TestFlows {
    static func udp(_ count: Int, timeout: UInt32 = 60) -> [Flow] {
        (0..<count).map { i in
            var f = Flow(original: Tuple(source: .v4(0x0a00_0000 + UInt32(i)), destination: .v4(0x0a63_0001),
                                         protocolNumber: 17, sourcePort: 1000, destinationPort: 53))
            f.timeout = timeout
            return f
        }
    }
}
