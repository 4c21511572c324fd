/// What one `tandem run` node tells the other about its VRRP instances over the sync
/// link's path (docs/split-brain.md), so a master whose VRRP path is cut both ways still
/// learns that its peer took over. A datagram of its own, on a port of its own: the sync
/// socket, which a conntrackd peer reads, never sees it.
package struct PeerView: Equatable, Sendable {
    static let magic: [UInt8] = Array("TNDV".utf8)
    static let version: UInt8 = 1
    static let headerSize = 24

    package enum State: UInt8, Sendable {
        case initial = 0, backup = 1, master = 2, fault = 3, stopped = 4

        var name: String {
            switch self {
            case .initial: "INIT"
            case .backup: "BACKUP"
            case .master: "MASTER"
            case .fault: "FAULT"
            case .stopped: "STOP"
            }
        }
    }

    package struct Instance: Equatable, Sendable {
        package var name: String
        package var state: State
        package var priority: UInt8
    }

    /// The sender's start (ns since 1970): a restarted peer's numbering starts over.
    package var epoch: UInt64
    /// +1 per datagram within an epoch; an older or repeated one is refused.
    package var sequence: UInt64
    package var instances: [Instance]

    package func encoded() -> [UInt8] {
        var out = Self.magic + [Self.version, 0]
        Self.append(UInt16(instances.count), to: &out)
        Self.append(epoch, to: &out)
        Self.append(sequence, to: &out)
        for i in instances {
            let name = Array(i.name.utf8.prefix(255))
            out += [i.state.rawValue, i.priority, UInt8(name.count)] + name
        }
        return out
    }

    package static func decode(_ bytes: [UInt8]) throws(PeerViewError) -> PeerView {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { throw .notAPeerView }
        guard bytes.count >= headerSize else { throw .truncated(bytes.count) }
        guard bytes[4] == version else { throw .unknownVersion(bytes[4]) }
        guard bytes[5] == 0 else { throw .reservedBits(bytes[5]) }
        let count = Int(read(bytes, 6, 2))
        var view = PeerView(epoch: read(bytes, 8, 8), sequence: read(bytes, 16, 8), instances: [])
        var at = headerSize
        for _ in 0..<count {
            guard at + 3 <= bytes.count else { throw .truncated(bytes.count) }
            guard let state = State(rawValue: bytes[at]) else { throw .unknownState(bytes[at]) }
            let length = Int(bytes[at + 2])
            guard at + 3 + length <= bytes.count else { throw .truncated(bytes.count) }
            guard let name = String(validating: bytes[(at + 3)..<(at + 3 + length)], as: UTF8.self), !name.isEmpty else {
                throw .badName
            }
            view.instances.append(Instance(name: name, state: state, priority: bytes[at + 1]))
            at += 3 + length
        }
        guard at == bytes.count else { throw .trailingBytes(bytes.count - at) }
        return view
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    private static func read(_ bytes: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
        bytes[offset..<(offset + size)].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Why a peer-view datagram was refused; each reason is counted and logged.
package enum PeerViewError: Error, Equatable, CustomStringConvertible {
    case notAPeerView
    case truncated(Int)
    case unknownVersion(UInt8)
    case reservedBits(UInt8)
    case unknownState(UInt8)
    case badName
    case trailingBytes(Int)
    /// A sequence number at or below one already taken in the same epoch, or an older epoch.
    case stale

    /// The counter's key (the status's `refused` map).
    package var reason: String {
        switch self {
        case .notAPeerView: "noMagic"
        case .truncated: "truncated"
        case .unknownVersion: "unknownVersion"
        case .reservedBits: "reservedBits"
        case .unknownState: "unknownState"
        case .badName: "badName"
        case .trailingBytes: "trailingBytes"
        case .stale: "stale"
        }
    }

    package var description: String {
        switch self {
        case .notAPeerView: "not a peer view (no TNDV magic)"
        case .truncated(let n): "truncated (\(n) bytes)"
        case .unknownVersion(let v): "unknown version \(v)"
        case .reservedBits(let b): "reserved byte \(b), not 0"
        case .unknownState(let s): "unknown instance state \(s)"
        case .badName: "an instance name that is empty or not UTF-8"
        case .trailingBytes(let n): "\(n) bytes after the last instance"
        case .stale: "stale: older than a view already taken (replayed or reordered)"
        }
    }

    static let reasons = ["noMagic", "truncated", "unknownVersion", "reservedBits", "unknownState", "badName", "trailingBytes",
                          "stale", "notFromPeer", "authentication"]
}
