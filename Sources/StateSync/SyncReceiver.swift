/// conntrackd's network counters for what arrives (`conntrackd -s network`).
public struct SyncReceiveCounters: Hashable, Sendable {
    public var truncated = 0
    public var badSize = 0
    public var wrongVersion = 0
    public var malformedHeader = 0
    public var malformedPayload = 0
    /// ALARM's "Bad message type" (types 6–15 without flags).
    public var badType = 0
    public init() {}
    /// "Malformed msgs": every rejection counts here too.
    public var malformed: Int { truncated + badSize + wrongVersion + malformedHeader + malformedPayload + badType }
}

/// What the receiver made of one message.
public enum ReceivedSyncMessage: Hashable, Sendable {
    case message(SyncMessage)
    /// A state message with a valid header whose payload was refused: the sync mode still
    /// accounts its sequence number, the contents are dropped.
    case malformedPayload(SyncHeader, SyncPayloadError)
    /// A header no mode accepts (type 7, a data type with control flags, ACK with to < from).
    case malformedHeader(SyncHeader)
}

/// Splits datagrams (or a TCP byte stream) into messages with conntrackd 1.4.7's checks
/// and counters (spec §1.5). A bad message never costs the valid ones before it; a
/// length problem ends the datagram because nothing after it can be framed.
public struct SyncReceiver: Sendable {
    public private(set) var counters = SyncReceiveCounters()

    public init() {}

    /// Decodes one datagram.
    public mutating func receive(datagram bytes: [UInt8]) -> [ReceivedSyncMessage] {
        var out: [ReceivedSyncMessage] = []
        _ = decode(bytes, stream: false, fastFlow: nil) { out.append($0) }
        return out
    }

    /// The same, each message handed over as it is decoded: a full receive buffer is
    /// never held as an array of messages.
    public mutating func receive(datagram bytes: [UInt8], _ handle: (ReceivedSyncMessage) -> Void) {
        _ = decode(bytes, stream: false, fastFlow: nil, handle)
    }

    /// The same, offering each flow state message with a valid header to `fastFlow`
    /// first (its header, type and payload bytes): when it answers true it has taken the
    /// message (decoded and handled it itself); otherwise the message is decoded, judged
    /// and counted here as usual.
    /// `within`: where in `bytes` the datagram lies, so that an authenticated link's
    /// payload is decoded where it arrived instead of being copied out of its envelope.
    public mutating func receive(datagram bytes: [UInt8], within: Range<Int>? = nil,
                                 fastFlow: (SyncHeader, SyncMessageType, UnsafeRawBufferPointer) -> Bool,
                                 _ handle: (ReceivedSyncMessage) -> Void) {
        _ = withoutActuallyEscaping(fastFlow) { f in decode(bytes, within: within, stream: false, fastFlow: f, handle) }
    }

    /// Decodes what a stream channel has buffered; `consumed` bytes were used, the rest
    /// is a partial message to keep for the next read.
    public mutating func receive(stream bytes: [UInt8]) -> (messages: [ReceivedSyncMessage], consumed: Int) {
        var out: [ReceivedSyncMessage] = []
        let consumed = decode(bytes, stream: true, fastFlow: nil) { out.append($0) }
        return (out, consumed)
    }

    /// Returns how many bytes were used.
    private mutating func decode(_ bytes: [UInt8], within: Range<Int>? = nil, stream: Bool,
                                 fastFlow: ((SyncHeader, SyncMessageType, UnsafeRawBufferPointer) -> Bool)?,
                                 _ handle: (ReceivedSyncMessage) -> Void) -> Int {
        bytes.withUnsafeBytes { whole in
            // Rebased: offsets below (and in `classify`) count from the datagram's start.
            let raw = within.map { UnsafeRawBufferPointer(rebasing: whole[$0]) } ?? whole
            var p = 0
            while p < raw.count {
                let remaining = raw.count - p
                if remaining < SyncHeader.size {
                    if !stream { counters.truncated += 1; p = raw.count }
                    break
                }
                let header = SyncHeader(raw: raw, at: p)
                let length = Int(header.length)
                if length == 0 { counters.badSize += 1; p = raw.count; break }
                if length > remaining {
                    if !stream { counters.badSize += 1; p = raw.count }
                    break
                }
                if header.hasRange {
                    if length < 16 { counters.badSize += 1; p = raw.count; break }
                } else if length < SyncHeader.size {
                    counters.badSize += 1; p = raw.count; break
                }
                defer { p += length }
                if header.version != SyncHeader.version {
                    counters.wrongVersion += 1
                    continue
                }
                if let fastFlow, header.isData, let type = header.type, type.isFlow,
                   fastFlow(header, type, UnsafeRawBufferPointer(rebasing: raw[(p + SyncHeader.size) ..< (p + length)])) {
                    continue
                }
                handle(classify(header, raw, p))
            }
            return p
        }
    }

    private mutating func classify(_ header: SyncHeader, _ raw: UnsafeRawBufferPointer, _ p: Int) -> ReceivedSyncMessage {
        let payload = (p + SyncHeader.size)..<(p + Int(header.length))
        if header.isData, let type = header.type {
            do throws(SyncPayloadError) {
                let body: SyncMessage.Body = type.isFlow
                    ? .flow(try SyncedFlowCodec.decode(raw, payload))
                    : .expectation(try SyncedExpectationCodec.decode(raw, payload))
                return .message(SyncMessage(type: type, flags: header.flags, sequence: header.sequence, body: body))
            } catch {
                counters.malformedPayload += 1
                return .malformedPayload(header, error)
            }
        }
        if header.typeCode == SyncMessageType.control.rawValue,
           !header.flags.intersection([.ack, .nack, .resync, .alive]).isEmpty {
            var range: ClosedRangeOfSequences?
            if header.hasRange {
                range = ClosedRangeOfSequences(from: SyncBytes.be32(raw, p + 8), to: SyncBytes.be32(raw, p + 12))
                if !header.flags.contains(.resync) && !range!.isWellFormed {
                    counters.malformedHeader += 1
                    return .malformedHeader(header)
                }
            }
            let c = ControlMessage(flags: header.flags, sequence: header.sequence, range: range)
            return .message(.control(c))
        }
        counters.malformedHeader += 1
        return .malformedHeader(header)
    }
}
