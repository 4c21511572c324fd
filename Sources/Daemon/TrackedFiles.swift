#if canImport(Glibc)
import Glibc
#endif
import ConfigParsing
import VRRP

/// The track_files' values (keepalived 2.2.7, trackers/track_file.c): each file is read
/// at start and again whenever inotify reports a file of its directory closed after
/// writing, moved or deleted — a change is seen on the next loop turn, not on a timer.
/// A file whose directory does not exist is dropped with keepalived's log line; a file
/// that is missing reads as 0.
final class TrackedFiles {
    struct File {
        let config: KeepalivedConfiguration.TrackFile
        let path: String
        var value: Int64
    }

    private(set) var files: [String: File] = [:]
    /// The inotify descriptor (nil: nothing to watch, or inotify refused).
    private(set) var descriptor: Int32?
    let log: (String) -> Void

    /// `tracked`: the names some instance or sync group tracks (keepalived forgets the
    /// rest). `reload`: init_file never overwrites an existing file then.
    init(_ configs: [KeepalivedConfiguration.TrackFile], tracked: Set<String>, reload: Bool, log: @escaping (String) -> Void) {
        self.log = log
        for c in configs where tracked.contains(c.name) {
            guard let configured = c.path else { continue }
            Self.initialise(c, path: configured, reload: reload, log: log)
            guard let path = Self.resolve(configured) else {
                log("Track file directory for \(c.name) does not exist - removing")
                continue
            }
            files[c.name] = File(config: c, path: path, value: 0)
        }
        guard !files.isEmpty else { return }
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd < 0 {
            log("Unable to monitor track files")
        } else {
            descriptor = fd
            for directory in Set(files.values.map { Self.directory(of: $0.path) }) {
                if inotify_add_watch(fd, directory, UInt32(IN_CLOSE_WRITE | IN_DELETE | IN_MOVE)) < 0 {
                    log("Unable to monitor track file directory \(directory): \(String(cString: strerror(errno)))")
                }
            }
        }
        for name in files.keys { _ = read(name) }
    }

    deinit { if let descriptor { close(descriptor) } }

    func value(_ name: String) -> Int64? { files[name]?.value }

    /// Empties the inotify queue and reads every file again. Returns whether a value changed.
    func drain() -> Bool {
        guard let fd = descriptor else { return false }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var events = false
        while Glibc.read(fd, &buffer, buffer.count) > 0 { events = true }
        guard events else { return false }
        var changed = false
        for name in files.keys where read(name) { changed = true }
        return changed
    }

    /// Reads one file; true when its value changed.
    private func read(_ name: String) -> Bool {
        guard var f = files[name] else { return false }
        var contents: [UInt8]?
        let fd = open(f.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 127)
            let n = Glibc.read(fd, &buffer, buffer.count)
            close(fd)
            contents = n > 0 ? Array(buffer[..<n]) : nil
        }
        guard let value = TrackedFileValue.parse(contents) else {
            log("Invalid number read from \(f.path) - ignoring")
            return false
        }
        guard value != f.value else { return false }
        f.value = value
        files[name] = f
        return true
    }

    /// init_file: writes the initial value when the file is missing, or always with
    /// `overwrite` (but never over something that is not a regular file, nor on reload).
    static func initialise(_ c: KeepalivedConfiguration.TrackFile, path: String, reload: Bool, log: (String) -> Void) {
        guard let initial = c.initValue else { return }
        var st = stat()
        if stat(path, &st) == 0 {
            guard c.overwrite else { return }
            guard st.st_mode & S_IFMT == S_IFREG else {
                log("Cannot initialise track file \(c.name) - it is not a regular file")
                return
            }
            if reload { return }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { log("Unable to initialise track file \(c.name)"); return }
        let text = Array("\(initial)\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// The file's path with its directory resolved; nil when the directory does not exist.
    static func resolve(_ path: String) -> String? {
        if let r = realpath(path, nil) { defer { free(r) }; return String(cString: r) }
        guard errno == ENOENT else { return nil }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let r = realpath(dir, nil) else { return nil }
        defer { free(r) }
        var st = stat()
        let resolved = String(cString: r)
        guard stat(resolved, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return nil }
        return (resolved == "/" ? "" : resolved) + "/" + name
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
}
