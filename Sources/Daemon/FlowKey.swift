import Conntrack

/// The identity conntrackd gives a flow (spec §2.7): family, protocol, original addresses
/// and the layer-4 identity. Zones are not part of it. IPv4 keys are held inline in 16
/// bytes; others in a shared box, so the common key stays small in every table.
public struct FlowKey: Hashable, Sendable {
    enum Storage: Hashable, Sendable {
        case packed(PackedTuple)
        case general(GeneralTuple)
    }

    /// Compared and hashed by value, as `Tuple` is.
    final class GeneralTuple: Hashable, Sendable {
        let tuple: Tuple
        init(_ t: Tuple) { tuple = t }
        static func == (a: GeneralTuple, b: GeneralTuple) -> Bool { a === b || a.tuple == b.tuple }
        func hash(into h: inout Hasher) { h.combine(tuple) }
    }

    let storage: Storage

    public init(_ t: Tuple) {
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
        storage = PackedTuple(t).map(Storage.packed) ?? .general(GeneralTuple(t))
    }

    public var tuple: Tuple {
        switch storage {
        case .packed(let p): p.tuple
        case .general(let g): g.tuple
        }
    }
}
