/// A control message (type 10): ALIVE (8 bytes) or ACK / NACK / RESYNC with an inclusive
/// sequence range (16 bytes). HELLO / HELLO_BACK may ride on any of them.
public struct ControlMessage: Hashable, Sendable {
    public var flags: SyncFlags
    public var sequence: UInt32
    public var range: ClosedRangeOfSequences?

    public init(flags: SyncFlags, sequence: UInt32, range: ClosedRangeOfSequences? = nil) {
        self.flags = flags
        self.sequence = sequence
        self.range = range
    }

    public static func alive(sequence: UInt32, handshake: SyncFlags = []) -> ControlMessage {
        ControlMessage(flags: SyncFlags.alive.union(handshake), sequence: sequence)
    }

    public static func ack(_ from: UInt32, _ to: UInt32, sequence: UInt32, handshake: SyncFlags = []) -> ControlMessage {
        ControlMessage(flags: SyncFlags.ack.union(handshake), sequence: sequence, range: .init(from: from, to: to))
    }

    public static func nack(_ from: UInt32, _ to: UInt32, sequence: UInt32, handshake: SyncFlags = []) -> ControlMessage {
        ControlMessage(flags: SyncFlags.nack.union(handshake), sequence: sequence, range: .init(from: from, to: to))
    }

    /// conntrackd always sends RESYNC with from = to = 0.
    public static func resync(sequence: UInt32, handshake: SyncFlags = []) -> ControlMessage {
        ControlMessage(flags: SyncFlags.resync.union(handshake), sequence: sequence, range: .init(from: 0, to: 0))
    }

    public func encode(into out: inout [UInt8]) {
        let header = SyncHeader(type: .control, flags: flags, length: range == nil ? 8 : 16, sequence: sequence)
        header.write(into: &out)
        if let range {
            SyncBytes.appendBE32(range.from, to: &out)
            SyncBytes.appendBE32(range.to, to: &out)
        }
    }
}

/// [from, to] in modular 32-bit sequence space.
public struct ClosedRangeOfSequences: Hashable, Sendable {
    public var from: UInt32
    public var to: UInt32
    public init(from: UInt32, to: UInt32) { self.from = from; self.to = to }

    /// `to` is not before `from` (serial-number arithmetic).
    public var isWellFormed: Bool { Int32(bitPattern: to &- from) >= 0 }

    public func contains(_ s: UInt32) -> Bool { sequence(s, in: from, to) }
}
