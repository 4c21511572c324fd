import StateSync

/// The identity conntrackd gives an expectation (spec §2.7): its master, expected and mask
/// tuples plus flags, class, helper, NAT and function. The timeout is not part of it, so a
/// refresh finds the entry; a changed flag or class makes a different expectation, as in
/// conntrackd, where an UPDATE with new flags creates a second entry.
///
/// Held in a shared box: `SyncObjectKey` is as large as its largest case, and the sync
/// engine copies that key through every queue for each flow it sends.
public struct ExpectationKey: Hashable, Sendable {
    let box: HashableBox<SyncedExpectation>

    public var attributes: SyncedExpectation { box.value }

    public init(_ x: SyncedExpectation) {
        var a = x
        a.timeout = nil
        box = HashableBox(a)
    }
}
