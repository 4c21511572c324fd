#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import Timekeeping
import VRRP

/// The vrrp_track_processes' quorums. keepalived 2.2.7 follows fork, exec, exit and comm
/// changes through the kernel's proc connector; Tandem reads /proc instead, once per
/// `scanInterval` (1 s): a process that starts or ends is seen within that second, plus
/// the configured fork_delay / terminate_delay. Matching is keepalived's: the comm (at
/// most 15 characters) or, with full_command or arguments, argv[0] and the arguments.
final class TrackedProcesses {
    static let scanInterval = Duration.seconds(1)

    struct Process {
        let config: KeepalivedConfiguration.TrackProcess
        var quorum: ProcessQuorum
        var count = 0
    }

    private(set) var processes: [String: Process] = [:]
    private(set) var nextScan: Instant
    let log: (String) -> Void

    init(_ configs: [KeepalivedConfiguration.TrackProcess], tracked: Set<String>, now: Instant, log: @escaping (String) -> Void) {
        self.log = log
        nextScan = now
        for c in configs where tracked.contains(c.name) {
            processes[c.name] = Process(config: c, quorum: ProcessQuorum(quorum: c.quorum, quorumMax: c.quorumMax,
                                                                        forkDelay: .seconds(c.forkDelay), terminateDelay: .seconds(c.terminateDelay)))
        }
        if !processes.isEmpty { _ = service(now: now) }
    }

    /// Whether the process's quorum holds (nil: not tracked).
    func haveQuorum(_ name: String) -> Bool? { processes[name]?.quorum.haveQuorum }

    var nextDeadline: Instant {
        guard !processes.isEmpty else { return .never }
        return processes.values.compactMap(\.quorum.nextDeadline).reduce(nextScan, min)
    }

    /// Scans /proc when due (or a delay ends); returns whether any quorum changed.
    func service(now: Instant) -> Bool {
        guard !processes.isEmpty else { return false }
        let delayDue = processes.values.contains { $0.quorum.nextDeadline.map { now >= $0 } ?? false }
        guard now >= nextScan || delayDue else { return false }
        if now >= nextScan {
            let counts = Self.count(Array(processes.values.map(\.config)))
            for name in processes.keys { processes[name]?.count = counts[name] ?? 0 }
            nextScan = now + Self.scanInterval
        }
        var changed = false
        for name in processes.keys {
            guard var p = processes[name] else { continue }
            if p.quorum.observe(count: p.count, now: now) {
                changed = true
                log("Track process \(name) \(p.quorum.haveQuorum == true ? "gained" : "lost") quorum (\(p.count) running)")
            }
            processes[name] = p
        }
        return changed
    }

    /// How many live (not zombie) processes match each configuration.
    static func count(_ configs: [KeepalivedConfiguration.TrackProcess]) -> [String: Int] {
        var counts: [String: Int] = [:]
        guard let dir = opendir("/proc") else { return counts }
        defer { closedir(dir) }
        let needComm = configs.contains { !$0.fullCommand }
        let needCmdline = configs.contains { $0.fullCommand }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let first = name.first, first >= "1", first <= "9", name.allSatisfy(\.isNumber) else { continue }
            guard let stat = read("/proc/\(name)/stat", limit: 512), let (comm, zombie) = parseStat(stat), !zombie else { continue }
            let cmdline = needCmdline ? read("/proc/\(name)/cmdline", limit: 4096) : nil
            for c in configs where matches(c, comm: needComm ? comm : nil, cmdline: cmdline) { counts[c.name, default: 0] += 1 }
        }
        return counts
    }

    /// The comm field (between the parentheses) and whether the state is Z.
    static func parseStat(_ bytes: [UInt8]) -> (String, Bool)? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")),
              let close = bytes[open...].firstIndex(of: UInt8(ascii: ")")) else { return nil }
        let comm = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        let state = close + 2 < bytes.count ? bytes[close + 2] : 0
        return (comm, state == UInt8(ascii: "Z"))
    }

    /// keepalived's match (track_process.c, read_procs and check_params).
    static func matches(_ c: KeepalivedConfiguration.TrackProcess, comm: String?, cmdline: [UInt8]?) -> Bool {
        guard let process = c.process else { return false }
        if !c.fullCommand { return comm == process }
        guard let cmdline, !cmdline.isEmpty else { return false }
        let words = cmdline.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard words.first == process else { return false }
        // cmdline ends with a NUL, which leaves one empty word at the end.
        var arguments = Array(words.dropFirst())
        if cmdline.last == 0, arguments.last == "" { arguments.removeLast() }
        let wanted = c.parameters
        switch c.parameterMatch {
        case .none: return true
        case .exact: return arguments == wanted
        case .partial: return arguments.count >= wanted.count && Array(arguments.prefix(wanted.count)) == wanted
        case .initial:
            guard let last = wanted.last else { return true }
            guard arguments.count >= wanted.count else { return false }
            return Array(arguments.prefix(wanted.count - 1)) == Array(wanted.dropLast()) && arguments[wanted.count - 1].hasPrefix(last)
        }
    }

    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = Glibc.read(fd, &buffer, limit)
        return n >= 0 ? Array(buffer[..<n]) : nil
    }
}
