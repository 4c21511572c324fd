/// Why a state message's payload was refused; each maps to conntrackd's
/// "Malformed payload" counter, and the message is dropped whole (spec §2.1).
public enum SyncPayloadError: Error, Hashable, Sendable {
    case attributeTooLong(offset: Int, length: Int, remaining: Int)
    case attributeTooShort(offset: Int, length: Int)
    case unknownAttribute(type: UInt16)
    case wrongSize(type: UInt16, length: Int, expected: Int)
    case tooLarge(type: UInt16, length: Int, maximum: Int)
    /// A name (helper, function) that is not UTF-8: read with replacement characters it
    /// would grow past its attribute's limit when sent on (found by fuzzing).
    case notText(type: UInt16)
}
