import Crypto

/// Seals what a node sends and opens what it receives on an authenticated sync link
/// (docs/sync-authentication.md): every datagram or TCP frame carries the sender's epoch
/// and a counter under an HMAC-SHA-256 tag. A frame is accepted only with a valid tag
/// under one of the keys, from the peer's newest epoch, and with a counter not seen
/// before; everything else is refused and counted by reason. No I/O: the channels hand
/// bytes in and send what comes out.
public struct SyncAuthenticator: Sendable {
    public enum Refusal: Error, Equatable, Sendable, CaseIterable {
        /// No envelope: a conntrackd peer (which cannot pair with an authenticating node) or noise.
        case notAuthenticated
        /// Too short, reserved bits set, or a length that disagrees with the datagram.
        case malformed
        case unknownVersion
        /// Signed with a key this node does not hold (its id matches neither key).
        case unknownKey
        case badTag
        /// A counter already accepted, one too far below the newest, or an older epoch.
        case replay
    }

    /// One per refusal reason, plus what passed.
    public struct Counters: Equatable, Sendable {
        public var sealed = 0
        public var accepted = 0
        public var notAuthenticated = 0
        public var malformed = 0
        public var unknownVersion = 0
        public var unknownKey = 0
        public var badTag = 0
        public var replay = 0
        /// Times the peer's epoch moved forward (its restarts, as seen from here).
        public var epochChanges = 0

        public init() {}

        public var refused: Int { notAuthenticated + malformed + unknownVersion + unknownKey + badTag + replay }

        mutating func count(_ r: Refusal) {
            switch r {
            case .notAuthenticated: notAuthenticated += 1
            case .malformed: malformed += 1
            case .unknownVersion: unknownVersion += 1
            case .unknownKey: unknownKey += 1
            case .badTag: badTag += 1
            case .replay: replay += 1
            }
        }
    }

    /// A TCP frame longer than this breaks the stream: no honest sender writes one, and
    /// buffering whatever length a stranger announces would let it hold memory.
    public static let maximumFrame = 1 << 20

    public private(set) var keys: SyncKeys
    /// HMAC keyed once per key: each frame copies it instead of deriving the pads again.
    private var keyedCurrent: HMAC<SHA256>
    private var keyedNext: HMAC<SHA256>?
    /// This start's epoch: the wall clock in nanoseconds when the node started, so a
    /// restarted peer's epoch is above the one the receiver holds, and an old epoch's
    /// captured frames are below it.
    public let epoch: UInt64
    private var sendCounter: UInt64 = 0
    /// The peer's newest epoch with a valid tag, and its counters.
    public private(set) var peerEpoch: UInt64?
    private var window = ReplayWindow()
    public private(set) var counters = Counters()

    public init(keys: SyncKeys, epoch: UInt64) {
        self.keys = keys
        self.epoch = epoch
        keyedCurrent = HMAC<SHA256>(key: keys.current.symmetric)
        keyedNext = keys.next.map { HMAC<SHA256>(key: $0.symmetric) }
    }

    /// Key rotation: the new pair applies to the next frame sent and received.
    public mutating func replaceKeys(_ keys: SyncKeys) {
        self.keys = keys
        keyedCurrent = HMAC<SHA256>(key: keys.current.symmetric)
        keyedNext = keys.next.map { HMAC<SHA256>(key: $0.symmetric) }
    }

    /// Appends the sealed form of `payload` to `out`.
    public mutating func seal(_ payload: ArraySlice<UInt8>, into out: inout [UInt8]) {
        sendCounter += 1
        let start = out.count
        AuthenticatedFrame(keyID: keys.current.id, epoch: epoch, counter: sendCounter, length: UInt32(payload.count))
            .encodeHeader(into: &out)
        out += payload
        var mac = keyedCurrent
        out.withUnsafeBytes { raw in mac.update(data: UnsafeRawBufferPointer(rebasing: raw[start...])) }
        out += mac.finalize()
        counters.sealed += 1
    }

    public mutating func seal(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + AuthenticatedFrame.overhead)
        seal(payload[...], into: &out)
        return out
    }

    /// Seals each datagram of a batch (`ends` as `SyncChannel.send(batch:ends:)`).
    public mutating func seal(batch bytes: [UInt8], ends: [Int]) -> (bytes: [UInt8], ends: [Int]) {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + ends.count * AuthenticatedFrame.overhead)
        var outEnds: [Int] = []
        outEnds.reserveCapacity(ends.count)
        var start = 0
        for end in ends {
            seal(bytes[start..<end], into: &out)
            outEnds.append(out.count)
            start = end
        }
        return (out, outEnds)
    }

    /// Opens one datagram: the range of its payload, or why it was refused (counted).
    public mutating func open(datagram bytes: [UInt8]) -> Result<Range<Int>, Refusal> {
        let r = judge(bytes[...])
        switch r {
        case .success: counters.accepted += 1
        case .failure(let refusal): counters.count(refusal)
        }
        return r
    }

    /// What `open(stream:)` found in a TCP stream buffer.
    public struct StreamResult {
        /// The payloads of the frames accepted, back to back.
        public var payload: [UInt8] = []
        /// Bytes used; the rest is a partial frame to keep.
        public var consumed = 0
        /// A header could not be read: the stream has lost its framing and everything
        /// after it is void until the connection restarts.
        public var broken: Refusal?
    }

    /// Opens the complete frames at the start of `bytes`; a frame with a bad tag or a
    /// replayed counter is skipped (its length is still known), a bad header breaks the stream.
    public mutating func open(stream bytes: [UInt8]) -> StreamResult {
        var out = StreamResult()
        var p = 0
        while bytes.count - p >= 4 {
            let available = bytes[p...]
            let header: AuthenticatedFrame
            switch AuthenticatedFrame.decodeHeader(available) {
            case .success(let h): header = h
            case .failure(.malformed) where available.count < AuthenticatedFrame.headerSize:
                out.consumed = p
                return out
            case .failure(let problem):
                let refusal = Self.refusal(problem)
                counters.count(refusal)
                out.broken = refusal
                out.consumed = bytes.count
                return out
            }
            let total = AuthenticatedFrame.overhead + Int(header.length)
            guard total <= Self.maximumFrame else {
                counters.count(.malformed)
                out.broken = .malformed
                out.consumed = bytes.count
                return out
            }
            guard available.count >= total else { break }
            switch judge(bytes[p..<p + total]) {
            case .success(let range):
                counters.accepted += 1
                out.payload += bytes[range]
            case .failure(let refusal):
                counters.count(refusal)
            }
            p += total
        }
        out.consumed = p
        return out
    }

    static func refusal(_ p: AuthenticatedFrame.HeaderProblem) -> Refusal {
        switch p {
        case .notAuthenticated: .notAuthenticated
        case .unknownVersion: .unknownVersion
        case .malformed: .malformed
        }
    }

    /// The checks in the order that costs an attacker most and us least: header, key,
    /// replay (cheap, before the HMAC), tag; only then is the counter recorded.
    private mutating func judge(_ frame: ArraySlice<UInt8>) -> Result<Range<Int>, Refusal> {
        let header: AuthenticatedFrame
        switch AuthenticatedFrame.decodeHeader(frame) {
        case .success(let h): header = h
        case .failure(let p): return .failure(Self.refusal(p))
        }
        guard frame.count == AuthenticatedFrame.overhead + Int(header.length) else { return .failure(.malformed) }
        let keyed: HMAC<SHA256>
        if header.keyID == keys.current.id {
            keyed = keyedCurrent
        } else if let next = keys.next, header.keyID == next.id, let keyedNext {
            keyed = keyedNext
        } else {
            return .failure(.unknownKey)
        }
        let newEpoch: Bool
        if let peerEpoch {
            if header.epoch < peerEpoch { return .failure(.replay) }
            newEpoch = header.epoch > peerEpoch
            if !newEpoch, window.judge(header.counter) != .fresh { return .failure(.replay) }
        } else {
            newEpoch = true
        }
        let tagStart = frame.endIndex - AuthenticatedFrame.tagSize
        var mac = keyed
        frame.withUnsafeBytes { raw in mac.update(data: UnsafeRawBufferPointer(rebasing: raw[..<(tagStart - frame.startIndex)])) }
        // The MAC's == against bytes is swift-crypto's constant-time comparison.
        let valid = mac.finalize() == frame[tagStart...]
        guard valid else { return .failure(.badTag) }
        if newEpoch {
            if peerEpoch != nil { counters.epochChanges += 1 }
            peerEpoch = header.epoch
            window = ReplayWindow()
        }
        window.record(header.counter)
        let payloadStart = frame.startIndex + AuthenticatedFrame.headerSize
        return .success(payloadStart..<tagStart)
    }
}
