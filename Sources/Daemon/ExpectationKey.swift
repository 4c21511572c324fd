import StateSync

/// The identity conntrackd gives an expectation (spec §2.7): its master, expected and mask
/// tuples plus flags, class, helper, NAT and function. The timeout is not part of it, so a
/// refresh finds the entry; a changed flag or class makes a different expectation, as in
/// conntrackd, where an UPDATE with new flags creates a second entry.
public struct ExpectationKey: Hashable, Sendable {
    public let attributes: SyncedExpectation

    public init(_ x: SyncedExpectation) {
        var a = x
        a.timeout = nil
        attributes = a
    }
}
