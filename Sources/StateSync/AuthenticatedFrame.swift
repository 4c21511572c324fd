/// The envelope of an authenticated sync datagram or TCP frame (docs/sync-authentication.md):
///
///     0      4        5         6          8        16         24        28        28+n
///     | TNDM | version | reserved | key id | epoch  | counter  | length n | payload | tag (32) |
///
/// All integers big-endian. The tag is HMAC-SHA-256 over everything before it. The
/// payload is conntrackd's datagram (or a run of its messages on TCP), unchanged.
public struct AuthenticatedFrame: Equatable, Sendable {
    public static let magic: [UInt8] = Array("TNDM".utf8)
    public static let version: UInt8 = 1
    public static let headerSize = 28
    public static let tagSize = 32
    public static let overhead = headerSize + tagSize

    public var keyID: UInt16
    public var epoch: UInt64
    public var counter: UInt64
    public var length: UInt32

    public init(keyID: UInt16, epoch: UInt64, counter: UInt64, length: UInt32) {
        self.keyID = keyID
        self.epoch = epoch
        self.counter = counter
        self.length = length
    }

    /// Why a header could not be read.
    public enum HeaderProblem: Error, Equatable, Sendable {
        /// Does not begin with the magic: a plain conntrackd message, or noise.
        case notAuthenticated
        case unknownVersion(UInt8)
        /// Shorter than a header, or nonzero reserved bits.
        case malformed
    }

    public func encodeHeader(into out: inout [UInt8]) {
        out += Self.magic
        out.append(Self.version)
        out.append(0)
        Self.put(UInt64(keyID), bytes: 2, into: &out)
        Self.put(epoch, bytes: 8, into: &out)
        Self.put(counter, bytes: 8, into: &out)
        Self.put(UInt64(length), bytes: 4, into: &out)
    }

    /// Reads the header at the start of `bytes` (at least `headerSize` of them wanted;
    /// fewer is `malformed` unless they already differ from the magic).
    public static func decodeHeader(_ bytes: ArraySlice<UInt8>) -> Result<AuthenticatedFrame, HeaderProblem> {
        let b = bytes.startIndex
        let prefix = min(bytes.count, 4)
        for i in 0..<prefix where bytes[b + i] != magic[i] { return .failure(.notAuthenticated) }
        guard bytes.count >= headerSize else { return .failure(.malformed) }
        guard bytes[b + 4] == version else { return .failure(.unknownVersion(bytes[b + 4])) }
        guard bytes[b + 5] == 0 else { return .failure(.malformed) }
        return .success(AuthenticatedFrame(keyID: UInt16(get(bytes, b + 6, 2)), epoch: get(bytes, b + 8, 8),
                                           counter: get(bytes, b + 16, 8), length: UInt32(get(bytes, b + 24, 4))))
    }

    private static func put(_ v: UInt64, bytes n: Int, into out: inout [UInt8]) {
        for i in stride(from: n - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) }
    }

    private static func get(_ bytes: ArraySlice<UInt8>, _ at: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<n { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }
}
