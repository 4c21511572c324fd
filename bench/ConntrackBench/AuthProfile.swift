#if canImport(Glibc)
import Glibc
#endif
import Crypto
import StateSync

/// `conntrack-bench profile-auth [PAYLOAD]`: what `--sync-key` costs one datagram on each
/// side, against swift-crypto's bare HMAC-SHA-256 over the same bytes (the floor no
/// envelope can go under). No namespace needed; prints key=value lines, ns per datagram.
func profileAuth(_ payloadSize: Int) -> Int32 {
    let rounds = 200_000
    let key = try! SyncKey(bytes: Array(repeating: 0x5a, count: 32))
    let payload = (0..<payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 131) }
    var sender = SyncAuthenticator(keys: SyncKeys(current: key), epoch: 1)
    var receiver = SyncAuthenticator(keys: SyncKeys(current: key), epoch: 2)
    var sealed: [[UInt8]] = []
    sealed.reserveCapacity(rounds)
    var t = now()
    for _ in 0..<rounds { sealed.append(sender.seal(payload)) }
    let sealNs = (now() - t) / Double(rounds) * 1e9
    var accepted = 0
    t = now()
    for d in sealed { if case .success = receiver.open(datagram: d) { accepted += 1 } }
    let openNs = (now() - t) / Double(rounds) * 1e9
    let symmetric = SymmetricKey(data: key.bytes)
    var sink: UInt8 = 0
    t = now()
    for d in sealed {
        let mac = HMAC<SHA256>.authenticationCode(for: d, using: symmetric)
        mac.withUnsafeBytes { sink ^= $0[0] }
    }
    let bareNs = (now() - t) / Double(rounds) * 1e9
    t = now()
    for d in sealed {
        let digest = d.withUnsafeBytes { SHA256.hash(data: $0) }
        digest.withUnsafeBytes { sink ^= $0[0] }
    }
    let shaNs = (now() - t) / Double(rounds) * 1e9
    print("payload_bytes=\(payloadSize) datagram_bytes=\(sealed[0].count) rounds=\(rounds) accepted=\(accepted)")
    print("seal_ns=\(Int(sealNs)) open_ns=\(Int(openNs)) bare_hmac_ns=\(Int(bareNs)) sha256_ns=\(Int(shaNs)) sink=\(sink)")
    return accepted == rounds ? 0 : 1
}
