import ConfigParsing
import Conntrack

/// `Filter From Kernelspace` blocks as a socket filter program for the event socket.
enum KernelEventFilter {
    /// `echoesOf`: the port id whose own writes' events are dropped too (first, as most of
    /// what it drops comes at the highest rate).
    static func program(_ filters: [ConntrackdConfiguration.Filter], droppingEchoesOf echoesOf: UInt32? = nil) -> EventFilterProgram? {
        var rules: [EventFilterProgram.Rule] = echoesOf.map { [.notFrom(port: $0)] } ?? []
        func policy(_ p: ConntrackdConfiguration.Policy) -> EventFilterProgram.Policy { p == .accept ? .accept : .ignore }
        for f in filters where f.source == .kernelspace {
            if let p = f.protocolPolicy { rules.append(.protocols(policy(p), f.protocolNumbers)) }
            if let p = f.addressPolicy {
                let v4 = f.addresses.compactMap { prefix -> (network: UInt32, prefix: Int)? in
                    guard case .v4(let a) = prefix.address else { return nil }
                    return (a, prefix.prefix)
                }
                rules.append(.sources(policy(p), v4))
            }
            if let p = f.statePolicy { rules.append(.tcpStates(policy(p), f.states.map(\.rawValue))) }
        }
        return rules.isEmpty ? nil : EventFilterProgram(rules)
    }
}
