#if canImport(Glibc)
import Glibc
#endif
import Crypto

/// A shared sync key (`--sync-key FILE`): the file's whole content, one trailing newline
/// ignored, so `head -c 32 /dev/urandom | base64 > key` works as well as raw bytes.
public struct SyncKey: Sendable, Equatable {
    public static let minimumLength = 32
    public let bytes: [UInt8]
    /// The first two bytes of SHA-256(key): tells a receiver holding two keys which one
    /// the sender used, and tells an operator the two sides' keys differ, without
    /// revealing anything usable about the key.
    public let id: UInt16
    let symmetric: SymmetricKey

    public init(bytes: [UInt8]) throws(SyncKeyError) {
        guard bytes.count >= Self.minimumLength else { throw .tooShort(file: nil, length: bytes.count) }
        self.bytes = bytes
        let digest = Array(SHA256.hash(data: bytes))
        id = UInt16(digest[0]) << 8 | UInt16(digest[1])
        symmetric = SymmetricKey(data: bytes)
    }

    public static func == (a: SyncKey, b: SyncKey) -> Bool { a.bytes == b.bytes }

    /// Reads a key file, refusing one that anyone but its owner may read or write: a
    /// key others can read authenticates nothing.
    public static func load(file path: String) throws(SyncKeyError) -> SyncKey {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
        guard UInt32(st.st_mode) & 0o170000 == 0o100000 else { throw .unreadable(file: path, reason: "not a regular file") }
        let mode = UInt32(st.st_mode) & 0o777
        guard mode & 0o077 == 0 else { throw .tooOpen(file: path, mode: mode) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .unreadable(file: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            content += buffer[0..<n]
            guard content.count <= 1 << 16 else { throw .unreadable(file: path, reason: "larger than 64 KiB") }
        }
        if content.last == 10 { content.removeLast() }
        do {
            return try SyncKey(bytes: content)
        } catch {
            throw .tooShort(file: path, length: content.count)
        }
    }
}

extension SyncKey {
    /// The key in `path`, or nil when there is no such file; any other problem (too
    /// open, too short, unreadable) is still refused.
    public static func loadIfPresent(file path: String) throws(SyncKeyError) -> SyncKey? {
        var st = stat()
        if stat(path, &st) != 0 && errno == ENOENT { return nil }
        return try load(file: path)
    }
}

/// Why a key file was refused; each description is the one line the daemon prints.
public enum SyncKeyError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case tooShort(file: String?, length: Int)
    case tooOpen(file: String, mode: UInt32)

    public var description: String {
        switch self {
        case .unreadable(let f, let r): "sync key file \(f): cannot read it: \(r)"
        case .tooShort(let f, let n):
            "sync key\(f.map { " file \($0)" } ?? ""): \(n) bytes; at least \(SyncKey.minimumLength) are needed (e.g. head -c 48 /dev/urandom | base64)"
        case .tooOpen(let f, let m):
            "sync key file \(f): mode \(String(m, radix: 8)) lets group or others at it; chmod 600 it"
        }
    }
}

/// The keys in use: `current` signs what is sent; a frame under `current` or `next` is
/// accepted, so both sides can move to a new key one after the other without a gap.
public struct SyncKeys: Sendable, Equatable {
    public var current: SyncKey
    public var next: SyncKey?

    public init(current: SyncKey, next: SyncKey? = nil) {
        self.current = current
        self.next = next
    }

    /// `--sync-key` and, when given, `--sync-key-next`. A next-key file that does not
    /// exist means no next key, at start as on SIGHUP: the rotation's last step removes
    /// it, and the node must still start afterwards with the same command line.
    public static func load(current: String, next: String?) throws(SyncKeyError) -> SyncKeys {
        SyncKeys(current: try SyncKey.load(file: current), next: try next.flatMap { p throws(SyncKeyError) in try SyncKey.loadIfPresent(file: p) })
    }

    func key(id: UInt16) -> SyncKey? {
        if current.id == id { return current }
        if let next, next.id == id { return next }
        return nil
    }
}
