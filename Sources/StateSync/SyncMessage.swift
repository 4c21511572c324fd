/// One conntrackd protocol message.
public struct SyncMessage: Hashable, Sendable {
    public enum Body: Hashable, Sendable {
        case flow(SyncedFlow)
        case expectation(SyncedExpectation)
        case control(ControlMessage)
    }

    public var type: SyncMessageType
    public var flags: SyncFlags
    public var sequence: UInt32
    public var body: Body

    public init(type: SyncMessageType, flags: SyncFlags = [], sequence: UInt32, body: Body) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.body = body
    }

    public static func control(_ c: ControlMessage) -> SyncMessage {
        SyncMessage(type: .control, flags: c.flags, sequence: c.sequence, body: .control(c))
    }

    /// Appends the message, header and padded payload; `len` is filled in.
    public func encode(into out: inout [UInt8]) {
        if case .control(let c) = body {
            c.encode(into: &out)
            return
        }
        let start = out.count
        SyncHeader(type: type, flags: flags, length: 0, sequence: sequence).write(into: &out)
        switch body {
        case .flow(let f): SyncedFlowCodec.encode(f, into: &out)
        case .expectation(let x): SyncedExpectationCodec.encode(x, into: &out)
        case .control: break
        }
        let length = out.count - start
        out[start + 2] = UInt8(length >> 8)
        out[start + 3] = UInt8(length & 0xff)
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }
}
