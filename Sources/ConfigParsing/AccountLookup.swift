#if canImport(Glibc)
import Glibc
#endif

/// The passwd and group databases, read with the reentrant calls: getpwnam and getgrnam
/// hand back one static record per process, and the parser runs on several threads at
/// once (tests in parallel, a reload beside a check), so one caller's look-up could be
/// overwritten by another's before its fields were read.
public enum AccountLookup {
    public struct Account: Hashable, Sendable {
        public var uid: uid_t
        public var gid: gid_t
    }

    /// The user's uid and primary gid, or nil when the host has no such user.
    public static func user(named name: String) -> Account? {
        withRecordBuffer { buffer -> Account?? in
            var record = passwd()
            var found: UnsafeMutablePointer<passwd>?
            let rc = getpwnam_r(name, &record, buffer.baseAddress!, buffer.count, &found)
            if rc == ERANGE { return .none }
            guard rc == 0, found != nil else { return .some(nil) }
            return .some(Account(uid: record.pw_uid, gid: record.pw_gid))
        }
    }

    /// The group's gid, or nil when the host has no such group.
    public static func group(named name: String) -> gid_t? {
        withRecordBuffer { buffer -> gid_t?? in
            var record = Glibc.group()
            var found: UnsafeMutablePointer<Glibc.group>?
            let rc = getgrnam_r(name, &record, buffer.baseAddress!, buffer.count, &found)
            if rc == ERANGE { return .none }
            guard rc == 0, found != nil else { return .some(nil) }
            return .some(record.gr_gid)
        }
    }

    /// Runs `body` with a scratch buffer for the record's strings, doubling it while the
    /// record does not fit (`.none`); a group with thousands of members needs more than the
    /// usual page. Past 1 MiB the entry is treated as absent rather than grown without end.
    private static func withRecordBuffer<T>(_ body: (UnsafeMutableBufferPointer<CChar>) -> T??) -> T? {
        var size = 4096
        while size <= 1 << 20 {
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: size)
            defer { buffer.deallocate() }
            if case .some(let answer) = body(buffer) { return answer }
            size *= 2
        }
        return nil
    }
}
