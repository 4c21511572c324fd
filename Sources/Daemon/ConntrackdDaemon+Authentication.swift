#if canImport(Glibc)
import Glibc
#endif
import StateSync

/// `--sync-key`: the link's frames sealed and checked (docs/sync-authentication.md).
extension ConntrackdDaemon {
    /// The authenticator for this start, with a fresh epoch (the wall clock: see
    /// `SyncAuthenticator.epoch`).
    static func authenticator(_ keys: SyncKeys, log: (String) -> Void) -> SyncAuthenticator {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let epoch = UInt64(max(0, ts.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, ts.tv_nsec))
        log("sync messages are authenticated (HMAC-SHA-256, key id \(keyID(keys.current))"
            + (keys.next.map { ", next key id \(keyID($0))" } ?? "") + "); a conntrackd peer cannot pair with this node")
        return SyncAuthenticator(keys: keys, epoch: epoch)
    }

    /// Key rotation: the new pair applies from the next frame. Refused (and logged) when
    /// authentication was off at start: turning it on mid-run would cut the peer off.
    public func replaceSyncKeys(_ keys: SyncKeys) {
        guard link.channels.authenticator != nil else {
            log("sync keys not applied: authentication was off at start; restart with --sync-key to turn it on")
            return
        }
        link.channels.authenticator!.replaceKeys(keys)
        log("sync keys reloaded: sending with key id \(Self.keyID(keys.current))"
            + (keys.next.map { ", also accepting key id \(Self.keyID($0))" } ?? ""))
    }

    /// The authentication counters; nil when authentication is off.
    public var authenticationCounters: SyncAuthenticator.Counters? { link.channels.authenticator?.counters }

    static func keyID(_ k: SyncKey) -> String {
        let hex = String(k.id, radix: 16)
        return String(repeating: "0", count: 4 - hex.count) + hex
    }
}
