import Conntrack
import IPAddressing

/// The identity conntrackd gives a flow (spec §2.7): family, protocol, original addresses
/// and the layer-4 identity. Zones are not part of it. IPv4 keys are held inline in 16
/// bytes; others in a shared box, so the common key stays small in every table.
public struct FlowKey: Hashable, Sendable {
    enum Storage: Hashable, Sendable {
        case packed(PackedTuple)
        case general(HashableBox<Tuple>)
    }

    let storage: Storage

    public init(_ t: Tuple) {
        let t = Self.identity(of: t)
        storage = PackedTuple(t).map(Storage.packed) ?? .general(HashableBox(t))
    }

    /// The part of a tuple that names a flow: no zone, and ports or ICMP fields by protocol.
    private static func identity(of t: Tuple) -> Tuple {
        var t = t
        t.zone = nil
        if t.isICMP {
            t.sourcePort = nil
            t.destinationPort = nil
        } else {
            t.icmpType = nil
            t.icmpCode = nil
            t.icmpID = nil
        }
        return t
    }

    /// Whether `FlowKey(t) == self`, without boxing a general tuple to find out: the
    /// tables compare a probed key with one their entries derive on each match.
    func names(_ t: Tuple) -> Bool {
        let t = Self.identity(of: t)
        switch storage {
        case .packed(let p): return PackedTuple(t) == p
        case .general(let g): return g.value == t
        }
    }

    /// What a cached value without an original tuple would be filed under. None is
    /// stored (every cache write is keyed by the flow's original tuple first), so this only
    /// keeps `FlowKeyed.flowKey` total.
    static let unnamed = FlowKey(Tuple(source: .v4(0), destination: .v4(0), protocolNumber: 0))

    /// The key of a packed original tuple: the same normalisation as `init(_:)`, on bits.
    init(packed p: PackedTuple) {
        var t = p
        if t.protocolNumber == IPProtocolNumber.icmp || t.protocolNumber == IPProtocolNumber.icmpv6 {
            if t.fields & PackedTuple.Field.ports != 0 {
                t.fields &= ~PackedTuple.Field.ports
                t.layer4 = 0
                // ICMP fields and ports cannot both be packed: nothing else to keep.
            }
        } else if t.fields & PackedTuple.Field.icmp != 0 {
            t.fields &= ~PackedTuple.Field.icmp
            t.layer4 = 0
        }
        storage = .packed(t)
    }

    public var tuple: Tuple {
        switch storage {
        case .packed(let p): p.tuple
        case .general(let g): g.value
        }
    }
}

extension FlowKey {
    /// A keyed 64-bit hash for the flow tables: two multiply-folds over the packed
    /// tuple's two words, a few nanoseconds where SipHash took tens. Keys in the general
    /// form (IPv6, zones) are rare and go through `Hasher`.
    func mixedHash(seed: UInt64) -> UInt64 {
        switch storage {
        case .packed(let p):
            let a = UInt64(p.source) << 32 | UInt64(p.destination)
            let b = UInt64(p.layer4) << 16 | UInt64(p.protocolNumber) << 8 | UInt64(p.fields)
            return Self.fold(Self.fold(a ^ seed, b ^ 0x9E37_79B9_7F4A_7C15) ^ seed, 0xBF58_476D_1CE4_E5B9)
        case .general(let g):
            var h = Hasher()
            h.combine(seed)
            h.combine(g.value)
            return Self.fold(UInt64(bitPattern: Int64(h.finalize())), 0x94D0_49BB_1331_11EB)
        }
    }

    @inline(__always)
    static func fold(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: y)
        return high ^ low
    }
}
