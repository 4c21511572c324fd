/// Where an object stands on its way to the peer under FTFW.
public enum FTFWPlace: Hashable, Sendable {
    /// Nothing pending.
    case idle
    /// Waiting in the transmit queue.
    case queued
    /// Sent under this sequence number. After the peer's ACK a non-final object may keep
    /// it (see `FTFWObjectPlaces.acknowledged`): a sequence number the resend queue no
    /// longer holds means the same as `idle`.
    case awaitingAcknowledgement(UInt32)
}

/// Where the FTFW engine keeps each object's place. An owner that holds its objects in
/// a table of its own keeps their places beside them: the engine then adds no index, and
/// no hash look-up, of its own on an object's way out.
public protocol FTFWObjectPlaces {
    associatedtype Key: Hashable & Sendable
    /// Where the owner holds an object: valid until the owner next changes its table.
    associatedtype Slot

    /// nil when the owner no longer holds `key`: the object is then never sent.
    func slot(of key: Key) -> Slot?
    subscript(place slot: Slot) -> FTFWPlace { get set }
    /// The peer acknowledged `sequence`, the transmission of a non-final object. An owner
    /// whose places live with its objects may leave the stale place alone (the engine
    /// then looks nothing up per acknowledged object); a separate index drops it here.
    mutating func acknowledged(_ key: Key, sequence: UInt32)
}

/// Places in an index of their own: for owners that hand the engine bare keys.
public struct FTFWPlaceIndex<Key: Hashable & Sendable>: FTFWObjectPlaces, Sendable {
    private var places: [Key: FTFWPlace] = [:]

    public init(minimumCapacity: Int = 0) { places.reserveCapacity(minimumCapacity) }

    public func slot(of key: Key) -> Key? { key }

    public subscript(place key: Key) -> FTFWPlace {
        get { places[key] ?? .idle }
        set { places[key] = newValue == .idle ? nil : newValue }
    }

    public mutating func acknowledged(_ key: Key, sequence: UInt32) {
        if places[key] == .awaitingAcknowledgement(sequence) { places[key] = nil }
    }
}
