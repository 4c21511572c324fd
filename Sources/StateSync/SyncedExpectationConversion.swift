import Conntrack

extension SyncedExpectation {
    /// The attributes conntrackd 1.4.7 sends for a kernel expectation (spec §2.6). Port
    /// attributes follow the master's protocol, not each tuple's own, as the C sender does.
    /// Nil when the kernel gave no master, expected or mask tuple: such an expectation
    /// cannot be recreated on the peer.
    public init?(expectation x: Expectation, options: SyncSenderOptions = SyncSenderOptions()) {
        guard let m = x.master, let t = x.tuple, let k = x.mask else { return nil }
        self.init()
        let withPorts = SyncedFlow.portProtocols.contains(m.protocolNumber)
        func tuple(_ u: Conntrack.Tuple) -> Tuple {
            Tuple(source: u.source, destination: u.destination, protocolNumber: u.protocolNumber,
                  ports: withPorts ? SyncPorts(source: u.sourcePort ?? 0, destination: u.destinationPort ?? 0) : nil)
        }
        master = tuple(m)
        expected = tuple(t)
        mask = tuple(k)
        if options.includeTimeout { timeout = x.timeout }
        flags = x.flags?.rawValue ?? 0
        expectationClass = x.expectationClass
        if let n = x.nat {
            nat = tuple(n.tuple)
            natDirection = n.direction
        }
        helper = x.helperName
        function = x.function
    }

    /// The kernel request that recreates this expectation, or nil without the three
    /// tuples the kernel requires. `timeout` replaces the received one.
    public func expectation(timeout: UInt32?) -> Expectation? {
        guard let m = master, let t = expected, let k = mask else { return nil }
        func tuple(_ u: Tuple, fallbackProtocol: UInt8) -> Conntrack.Tuple {
            Conntrack.Tuple(source: u.source, destination: u.destination, protocolNumber: u.protocolNumber ?? fallbackProtocol,
                            sourcePort: u.ports?.source, destinationPort: u.ports?.destination)
        }
        let proto = m.protocolNumber ?? 0
        var x = Expectation(family: m.source.family)
        x.master = tuple(m, fallbackProtocol: proto)
        x.tuple = tuple(t, fallbackProtocol: proto)
        x.mask = tuple(k, fallbackProtocol: t.protocolNumber ?? proto)
        x.timeout = timeout
        x.flags = flags.map { ExpectationFlags(rawValue: $0) }
        x.expectationClass = expectationClass
        if let n = nat { x.nat = ExpectationNAT(direction: natDirection ?? 0, tuple: tuple(n, fallbackProtocol: proto)) }
        x.helperName = helper
        x.function = function
        return x
    }
}
