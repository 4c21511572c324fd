import StateSync

/// The FTFW engine keeps a flow's place in the flow's own cache entry: queueing a flow
/// just recorded and sending it touch the entry the cache has found anyway, and an
/// acknowledgement of a flow that is not final touches nothing.
extension InternalCache: FTFWObjectPlaces {
    public enum Slot {
        /// A position in `entries`.
        case flow(Int)
        case other(SyncObjectKey)
    }

    public func slot(of key: SyncObjectKey) -> Slot? {
        guard case .flow(let k) = key else { return .other(key) }
        return entries.index(forKey: k).map(Slot.flow)
    }

    public subscript(place slot: Slot) -> FTFWPlace {
        get {
            switch slot {
            case .flow(let p): entries[valueAt: p].place
            case .other(let k): otherPlaces[place: k]
            }
        }
        set {
            switch slot {
            case .flow(let p): setPlace(newValue, at: p)
            case .other(let k): otherPlaces[place: k] = newValue
            }
        }
    }

    public mutating func acknowledged(_ key: SyncObjectKey, sequence: UInt32) {
        // A flow's stale place means idle; the side index would keep it forever.
        guard case .flow = key else { otherPlaces.acknowledged(key, sequence: sequence); return }
    }
}
