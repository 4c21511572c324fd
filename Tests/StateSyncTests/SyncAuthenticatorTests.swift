import StateSync
import Testing

/// The sync envelope: what one side seals the other opens; forgeries, alterations,
/// replays and garbage are refused, each counted under its reason.
@Suite struct SyncAuthenticatorTests {
    static let keyA = try! SyncKey(bytes: Array("0123456789abcdef0123456789abcdef-A".utf8))
    static let keyB = try! SyncKey(bytes: Array("0123456789abcdef0123456789abcdef-B".utf8))
    static let payload: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x10, 0x20, 0x30, 0x40]

    static func pair(send: SyncKeys = SyncKeys(current: keyA), receive: SyncKeys = SyncKeys(current: keyA),
                     epoch: UInt64 = 1000) -> (SyncAuthenticator, SyncAuthenticator) {
        (SyncAuthenticator(keys: send, epoch: epoch), SyncAuthenticator(keys: receive, epoch: 5))
    }

    static func opened(_ r: inout SyncAuthenticator, _ d: [UInt8]) -> [UInt8]? {
        guard case .success(let range) = r.open(datagram: d) else { return nil }
        return Array(d[range])
    }

    @Test func roundTrip() {
        var (s, r) = Self.pair()
        let sealed = s.seal(Self.payload)
        #expect(sealed.count == Self.payload.count + AuthenticatedFrame.overhead)
        #expect(Array(sealed.prefix(4)) == Array("TNDM".utf8))
        #expect(Self.opened(&r, sealed) == Self.payload)
        #expect(r.counters.accepted == 1 && r.counters.refused == 0)
        #expect(s.counters.sealed == 1)
        #expect(r.peerEpoch == 1000)
    }

    @Test func anEmptyPayloadRoundTrips() {
        var (s, r) = Self.pair()
        #expect(Self.opened(&r, s.seal([])) == [])
    }

    @Test func everyAlteredByteIsRefused() {
        var (s, _) = Self.pair()
        let sealed = s.seal(Self.payload)
        var refusedAs: [SyncAuthenticator.Refusal: Int] = [:]
        for i in sealed.indices {
            var r = SyncAuthenticator(keys: SyncKeys(current: Self.keyA), epoch: 5)
            var altered = sealed
            altered[i] ^= 0x01
            guard case .failure(let why) = r.open(datagram: altered) else {
                Issue.record("byte \(i) altered and accepted")
                continue
            }
            refusedAs[why, default: 0] += 1
            #expect(r.counters.refused == 1 && r.counters.accepted == 0)
        }
        // Magic → not authenticated; version; reserved and length → malformed; key id → unknown key; the rest → tag.
        #expect(refusedAs[.notAuthenticated] == 4)
        #expect(refusedAs[.unknownVersion] == 1)
        #expect(refusedAs[.unknownKey] == 2)
        #expect(refusedAs[.badTag] == sealed.count - 4 - 1 - 1 - 2 - 4)
        #expect(refusedAs[.malformed] == 1 + 4)
        // Control: the unaltered datagram passes a fresh receiver.
        var r = SyncAuthenticator(keys: SyncKeys(current: Self.keyA), epoch: 5)
        #expect(Self.opened(&r, sealed) == Self.payload)
    }

    @Test func aWrongKeyIsRefused() {
        var (s, r) = Self.pair(send: SyncKeys(current: Self.keyB))
        #expect(r.open(datagram: s.seal(Self.payload)) == .failure(.unknownKey))
        // Same key id, different key (a forger who copies the id): bad tag.
        var forger = SyncAuthenticator(keys: SyncKeys(current: Self.keyB), epoch: 1000)
        var sealed = forger.seal(Self.payload)
        sealed[6] = UInt8(Self.keyA.id >> 8)
        sealed[7] = UInt8(Self.keyA.id & 0xff)
        #expect(r.open(datagram: sealed) == .failure(.badTag))
        #expect(r.counters.unknownKey == 1 && r.counters.badTag == 1)
    }

    @Test func aReplayIsRefusedOnce() {
        var (s, r) = Self.pair()
        let first = s.seal(Self.payload), second = s.seal(Self.payload)
        #expect(Self.opened(&r, first) != nil)
        #expect(r.open(datagram: first) == .failure(.replay))
        #expect(Self.opened(&r, second) != nil)
        #expect(r.open(datagram: second) == .failure(.replay))
        #expect(r.counters.replay == 2 && r.counters.accepted == 2)
    }

    /// Out of order within the window passes once; below the window is refused.
    @Test func theWindowSlides() {
        var (s, r) = Self.pair()
        let frames = (0..<2000).map { _ in s.seal(Self.payload) }
        #expect(Self.opened(&r, frames[1500]) != nil)
        #expect(Self.opened(&r, frames[1000]) != nil)   // 500 behind: inside the window
        #expect(r.open(datagram: frames[1000]) == .failure(.replay))
        #expect(r.open(datagram: frames[400]) == .failure(.replay))   // 1100 behind: too old
        #expect(Self.opened(&r, frames[1999]) != nil)
        #expect(Self.opened(&r, frames[1499]) != nil)
        #expect(r.open(datagram: frames[1500]) == .failure(.replay))
        // A jump beyond the window's width clears it; the counters below stay refused.
        var window = ReplayWindow()
        window.record(10)
        window.record(10 + 5000)
        #expect(window.judge(10) == .tooOld)
        #expect(window.judge(5009) == .fresh)
        #expect(window.judge(5010) == .duplicate)
    }

    /// A restarted peer (newer epoch, valid tag) replaces the old epoch; frames of the old
    /// one are refused afterwards; a forged newer epoch does not move anything.
    @Test func anEpochChangeNeedsAValidTag() {
        var (old, r) = Self.pair(epoch: 1000)
        let oldFrame = old.seal(Self.payload)
        let oldLater = old.seal(Self.payload)
        #expect(Self.opened(&r, oldFrame) != nil)
        var forger = SyncAuthenticator(keys: SyncKeys(current: Self.keyB), epoch: 9999)
        var forged = forger.seal(Self.payload)
        forged[6] = UInt8(Self.keyA.id >> 8)
        forged[7] = UInt8(Self.keyA.id & 0xff)
        #expect(r.open(datagram: forged) == .failure(.badTag))
        #expect(r.peerEpoch == 1000)
        var restarted = SyncAuthenticator(keys: SyncKeys(current: Self.keyA), epoch: 2000)
        #expect(Self.opened(&r, restarted.seal(Self.payload)) != nil)
        #expect(r.peerEpoch == 2000 && r.counters.epochChanges == 1)
        #expect(r.open(datagram: oldLater) == .failure(.replay))
        #expect(Self.opened(&r, restarted.seal(Self.payload)) != nil)
    }

    /// Rotation: the receiver holding current and next accepts both; the sender then
    /// moves to the new key, and a receiver that dropped the old one refuses it.
    @Test func keyRotationWithoutAGap() {
        var (s, r) = Self.pair()
        r.replaceKeys(SyncKeys(current: Self.keyA, next: Self.keyB))
        #expect(Self.opened(&r, s.seal(Self.payload)) != nil)
        s.replaceKeys(SyncKeys(current: Self.keyB, next: Self.keyA))
        #expect(Self.opened(&r, s.seal(Self.payload)) != nil)
        r.replaceKeys(SyncKeys(current: Self.keyB))
        #expect(Self.opened(&r, s.seal(Self.payload)) != nil)
        var stale = SyncAuthenticator(keys: SyncKeys(current: Self.keyA), epoch: 1000)
        _ = stale.seal(Self.payload)
        for _ in 0..<5 { _ = stale.seal(Self.payload) }
        #expect(r.open(datagram: stale.seal(Self.payload)) == .failure(.unknownKey))
    }

    @Test func shortAndGarbledInputIsRefusedByReason() {
        var r = SyncAuthenticator(keys: SyncKeys(current: Self.keyA), epoch: 5)
        #expect(r.open(datagram: []) == .failure(.malformed))
        #expect(r.open(datagram: Array("TND".utf8)) == .failure(.malformed))
        #expect(r.open(datagram: Array("TNDM".utf8)) == .failure(.malformed))
        // A conntrackd datagram: its header starts with flags and version, never the magic.
        #expect(r.open(datagram: [0x00, 0x00, 0x00, 0x02, 0x00, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]) == .failure(.notAuthenticated))
        var header: [UInt8] = []
        AuthenticatedFrame(keyID: Self.keyA.id, epoch: 1, counter: 1, length: 100).encodeHeader(into: &header)
        #expect(r.open(datagram: header + [UInt8](repeating: 0, count: 32)) == .failure(.malformed))
        header[4] = 9
        #expect(r.open(datagram: header + [UInt8](repeating: 0, count: 132)) == .failure(.unknownVersion))
        var g = SystemRandomNumberGenerator()
        for n in 0..<2000 {
            var junk = (0..<(n % 200)).map { _ in UInt8.random(in: 0...255, using: &g) }
            if n % 2 == 0 && junk.count >= 4 { junk.replaceSubrange(0..<4, with: Array("TNDM".utf8)) }
            _ = r.open(datagram: junk)
        }
        #expect(r.counters.accepted == 0)
        #expect(r.counters.refused == 2006)
    }

    /// TCP: frames split anywhere reassemble; a bad tag skips one frame; a bad header
    /// breaks the stream.
    @Test func streamFramesReassemble() {
        var (s, r) = Self.pair()
        var stream: [UInt8] = []
        for i in 0..<10 { stream += s.seal(Self.payload + [UInt8(i)]) }
        var got: [UInt8] = []
        var buffered: [UInt8] = []
        for chunk in stride(from: 0, to: stream.count, by: 7).map({ Array(stream[$0..<min($0 + 7, stream.count)]) }) {
            buffered += chunk
            let out = r.open(stream: buffered)
            #expect(out.broken == nil)
            got += out.payload
            buffered = Array(buffered[out.consumed...])
        }
        #expect(buffered.isEmpty)
        #expect(got == (0..<10).flatMap { Self.payload + [UInt8($0)] })
        var tampered = s.seal(Self.payload)
        tampered[tampered.count - 1] ^= 1
        let after = s.seal(Self.payload)
        let out = r.open(stream: tampered + after)
        #expect(out.broken == nil && out.payload == Self.payload && r.counters.badTag == 1)
        let broken = r.open(stream: [0, 0, 0, 0, 0, 0, 0, 0] + s.seal(Self.payload))
        #expect(broken.broken == .notAuthenticated && broken.payload.isEmpty)
    }
}
