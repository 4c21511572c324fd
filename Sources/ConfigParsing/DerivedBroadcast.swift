import IPAddressing

/// `brd +` and `brd -` on an IPv4 address line: keepalived works the broadcast out from the
/// address (the peer's, for a point-to-point one) and the prefix, as iproute2 does.
enum DerivedBroadcast {
    /// `+`: every host bit set.
    case allOnes
    /// `-`: every host bit clear, the network's own address.
    case network

    func of(_ address: IPAddress, prefix: Int) -> IPAddress? {
        let host: UInt32 = prefix >= 32 ? 0 : UInt32.max >> UInt32(prefix)
        guard case .v4(let value) = address else { return nil }
        return .v4(self == .allOnes ? value | host : value & ~host)
    }
}
