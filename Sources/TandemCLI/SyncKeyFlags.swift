#if canImport(Glibc)
import Glibc
#endif
import Daemon
import StateSync

/// `--sync-key FILE` and `--sync-key-next FILE` (also `--flag=FILE`) on `tandem conntrackd`,
/// whose parser is conntrackd's own; `tandem run` reads the same two through ArgumentParser.
struct SyncKeyFlags: Equatable {
    static let current = "--sync-key"
    static let next = "--sync-key-next"

    var currentFile: String?
    var nextFile: String?

    enum Reading: Equatable {
        case notMine
        case read(taking: Int)
        case refused(String)
    }

    var isSet: Bool { currentFile != nil || nextFile != nil }

    /// Reads the flag at `argv[i]` if it is one of the two.
    mutating func read(_ argv: [String], at i: Int) -> Reading {
        let a = argv[i]
        for name in [Self.current, Self.next] {
            let value: String
            let taking: Int
            if a == name {
                guard i + 1 < argv.count, !argv[i + 1].isEmpty else { return .refused("\(name) needs a file name") }
                value = argv[i + 1]
                taking = 2
            } else if a.hasPrefix(name + "=") {
                value = String(a.dropFirst(name.count + 1))
                guard !value.isEmpty else { return .refused("\(name) needs a file name") }
                taking = 1
            } else {
                continue
            }
            if name == Self.current { currentFile = value } else { nextFile = value }
            return .read(taking: taking)
        }
        return .notMine
    }

    /// The keys the files hold; nil without `--sync-key`. A next key alone is refused:
    /// it would authenticate nothing that is sent.
    func load() throws(SyncKeyFlagError) -> SyncKeys? {
        guard let currentFile else {
            if nextFile != nil { throw .nextWithoutCurrent }
            return nil
        }
        do {
            return try SyncKeys.load(current: currentFile, next: nextFile)
        } catch {
            throw .key(error)
        }
    }
}

enum SyncKeyFlagError: Error, Equatable, CustomStringConvertible {
    case nextWithoutCurrent
    case key(SyncKeyError)

    var description: String {
        switch self {
        case .nextWithoutCurrent: "\(SyncKeyFlags.next) needs \(SyncKeyFlags.current) too"
        case .key(let e): e.description
        }
    }
}

extension RunTool {
    /// SIGHUP: the key files read again (rotation without downtime). A next-key file that
    /// is gone means no next key; any other problem keeps the running keys.
    static func reloadSyncKeys(node: FailoverNode, command: RunCommand, log: (String) -> Void) {
        guard let currentFile = command.syncKey else { return }
        do {
            node.replaceSyncKeys(try SyncKeys.load(current: currentFile, next: command.syncKeyNext))
        } catch {
            log("sync keys not reloaded: \(error); the running keys stay")
        }
    }
}
